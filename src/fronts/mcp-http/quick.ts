/**
 * The 2026 gateway's quick path for tool calls: a plain `tools/call` answered without the v2
 * SDK's per-request server and without web Request/Response objects, which together cost about
 * 400 µs of the daemon's CPU per call (bench/README.md). Only a request the SDK's handler would
 * take as it is comes here: classified `modern` by the SDK's own classifier (envelope, version
 * and method headers checked), every standard header present and agreeing with the body, JSON
 * content, no progress token or log level, no retry (answers or state). The call runs through the same
 * function as the SDK's handler (modern.ts answerCall), and its answer is encoded as the SDK
 * encodes one: `resultType`, the server's identity in `_meta`, the error codes and statuses.
 * test/integration/gateway-quick.test.ts holds the two paths' answers to each other.
 */
import type { IncomingMessage } from 'node:http';
import { LOG_LEVEL_META_KEY, PROTOCOL_VERSION_META_KEY, SERVER_INFO_META_KEY, isJsonContentType } from '@modelcontextprotocol/server';
import { rawJsonOf } from '../../hotpath/raw-json.js';
import type { Envelope } from '../mcp/modern.js';
import { isPlain } from '../../util/plain.js';

export interface QuickCall {
  id: string | number;
  name: string;
  arguments: Record<string, unknown> | undefined;
  envelope: Envelope;
}

const REVISION = '2026-07-28';
const PLAIN_PARAMS = new Set(['name', 'arguments', '_meta']);

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim();
};

/** The call, when `body` (classified `modern` already) is one the quick path may answer. */
export function quickCallOf(req: IncomingMessage, body: unknown): QuickCall | undefined {
  if (!isJsonContentType(req.headers['content-type'] ?? null) || !isPlain(body) || body['method'] !== 'tools/call') return undefined;
  const id = body['id'];
  if (typeof id !== 'string' && !Number.isSafeInteger(id)) return undefined;
  const params = body['params'];
  if (!isPlain(params) || typeof params['name'] !== 'string') return undefined;
  for (const key in params) if (!PLAIN_PARAMS.has(key)) return undefined;
  const args = params['arguments'];
  const envelope = params['_meta'];
  // Progress and log messages need the SDK's stream.
  if ((args !== undefined && !isPlain(args)) || !isPlain(envelope) || 'progressToken' in envelope || LOG_LEVEL_META_KEY in envelope)
    return undefined;
  if (envelope[PROTOCOL_VERSION_META_KEY] !== REVISION || header(req, 'mcp-protocol-version') !== REVISION) return undefined;
  // Mcp-Name exactly as the body names the tool (an encoded one is the SDK's to decode).
  if (header(req, 'mcp-method') !== 'tools/call' || header(req, 'mcp-name') !== params['name']) return undefined;
  return { id: id as string | number, name: params['name'], arguments: args, envelope };
}

export interface QuickAnswer {
  status: number;
  body: string;
}

/** The result as the SDK's 2026 codec encodes it: a resultType, and the server's identity in _meta. */
function resultText(result: Record<string, unknown>, serverInfo: { name: string; version: string }): string {
  const meta = result['_meta'];
  // Untouched since the server wrote it: its own text, with the two members added.
  const raw = rawJsonOf(result);
  if (raw !== undefined && meta === undefined && result['resultType'] === undefined && raw.endsWith('}') && Object.keys(result).length > 0)
    return `${raw.slice(0, -1)},"resultType":"complete","_meta":${identityText(serverInfo)}}`;
  const stamped: Record<string, unknown> = { ...result, resultType: result['resultType'] ?? 'complete' };
  if (meta === undefined) stamped['_meta'] = { [SERVER_INFO_META_KEY]: serverInfo };
  else if (isPlain(meta) && meta[SERVER_INFO_META_KEY] === undefined) stamped['_meta'] = { ...meta, [SERVER_INFO_META_KEY]: serverInfo };
  return JSON.stringify(stamped);
}

let identity: { of: object; text: string } | undefined;

/** `{"io.modelcontextprotocol/serverInfo": …}` as text, made once (it is the same on every answer). */
function identityText(serverInfo: { name: string; version: string }): string {
  if (identity?.of !== serverInfo) identity = { of: serverInfo, text: JSON.stringify({ [SERVER_INFO_META_KEY]: serverInfo }) };
  return identity.text;
}

const MISSING_CAPABILITY = -32021;

export function quickAnswer(
  id: string | number,
  outcome: { result: Record<string, unknown> } | { error: unknown },
  serverInfo: { name: string; version: string },
): QuickAnswer {
  const head = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},`;
  if ('result' in outcome) return { status: 200, body: `${head}"result":${resultText(outcome.result, serverInfo)}}` };
  const { code, message, data } = (outcome.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  const thrown = Number.isSafeInteger(code) ? (code as number) : -32603;
  // (The 2026 codec's one renumbering: resource-not-found is invalid params there.)
  const wire = thrown === -32002 ? -32602 : thrown;
  const error = { code: wire, message: typeof message === 'string' ? message : 'Internal error', ...(data !== undefined ? { data } : {}) };
  // An error of the call is the answer, HTTP 200; a capability the client lacks is a 400.
  return { status: wire === MISSING_CAPABILITY ? 400 : 200, body: `${head}"error":${JSON.stringify(error)}}` };
}
