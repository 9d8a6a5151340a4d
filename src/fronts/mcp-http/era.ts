/**
 * Which era a request to the gateway speaks: the v2 SDK's own classification (the same code its
 * handler routes by), so that everything claiming the 2026-07-28 envelope — malformed claims
 * included, which must get that revision's errors — goes to the session-less path, and the rest
 * (initialize, session requests, the GET stream, DELETE) stays on the 2025 sessions.
 */
import type { IncomingMessage } from 'node:http';
import { PROTOCOL_VERSION_META_KEY, classifyInboundRequest } from '@modelcontextprotocol/server';
import { isPlain } from '../../util/plain.js';

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The first revision of the session-less era: versions are dates, so later ones sort after it. */
const FIRST_MODERN = '2026-07-28';

/**
 * A plain 2025 request or notification, told without the SDK's schemas (about 30 µs a request):
 * a POST of one JSON-RPC message with no result or error member, no envelope claim in
 * `params._meta`, and no 2026 version in the header. The SDK classifies these as legacy too;
 * anything else (batches, responses, claims, odd shapes) is left to it.
 */
function plainlyLegacy(req: IncomingMessage, body: unknown): boolean {
  if (req.method !== 'POST' || !isPlain(body) || body['jsonrpc'] !== '2.0' || typeof body['method'] !== 'string') return false;
  if ('result' in body || 'error' in body) return false;
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number') return false;
  const params = body['params'];
  if (params !== undefined && !isPlain(params)) return false;
  const meta = params?.['_meta'];
  if (meta !== undefined && (!isPlain(meta) || PROTOCOL_VERSION_META_KEY in meta)) return false;
  const header = first(req.headers['mcp-protocol-version'])?.trim();
  return header === undefined || header < FIRST_MODERN;
}

/**
 * The SDK's classification, remembered for the requests a client repeats: its zod schemas cost
 * about 30 µs a request, and a 2026 client sends the same envelope, headers and method every
 * time. The outcome is a function of only what the key holds — the HTTP method (POST), the two
 * headers, the JSON-RPC method, the `_meta` envelope — for a body that is a plain request (no
 * result or error member, a string or integer id, object params), so anything else is not kept.
 */
const remembered = new Map<string, 'legacy' | 'modern' | 'reject'>();
const REMEMBERED_MAX = 256;

function keyOf(req: IncomingMessage, body: unknown): string | undefined {
  if (req.method !== 'POST' || !isPlain(body) || body['jsonrpc'] !== '2.0' || 'result' in body || 'error' in body) return undefined;
  const { id, method, params } = body;
  if ((typeof id !== 'string' && !Number.isSafeInteger(id)) || typeof method !== 'string' || !isPlain(params)) return undefined;
  const meta = params['_meta'];
  if (!isPlain(meta)) return undefined;
  const version = first(req.headers['mcp-protocol-version']) ?? '';
  const named = first(req.headers['mcp-method']) ?? '';
  return `${version}\n${named}\n${method}\n${JSON.stringify(meta)}`;
}

/**
 * `legacy` for the 2025 sessions; `modern` for a well-formed 2026 request (its envelope, version
 * and method headers checked); `reject` for what the 2026 path must refuse with its own errors.
 */
export function requestEra(req: IncomingMessage, body: unknown): 'legacy' | 'modern' | 'reject' {
  if (plainlyLegacy(req, body)) return 'legacy';
  const key = keyOf(req, body);
  const known = key === undefined ? undefined : remembered.get(key);
  if (known !== undefined) return known;
  const era = classifyInboundRequest({
    httpMethod: req.method ?? 'GET',
    protocolVersionHeader: first(req.headers['mcp-protocol-version']),
    mcpMethodHeader: first(req.headers['mcp-method']),
    body,
  }).kind;
  if (key !== undefined) {
    if (remembered.size >= REMEMBERED_MAX) remembered.delete(remembered.keys().next().value!);
    remembered.set(key, era);
  }
  return era;
}
