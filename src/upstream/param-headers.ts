/**
 * SEP-2243's custom headers (2026-07-28, Streamable HTTP): a tool may mark arguments with
 * `x-mcp-header: NAME` in its inputSchema, and a client mirrors each such argument of a call into
 * an `Mcp-Param-NAME` header, so that proxies and load balancers can route on it without parsing
 * the body. The v2 client does this only inside its own `callTool`, which mcpd does not use (it
 * relays results as the server wrote them, without the client's output-schema checks), and its
 * helpers are internal; so this is ours, to the same rules. The client's `listTools` already drops
 * tools whose declarations are invalid, so what comes here is only collected.
 */

/** One marked argument: where it is in the arguments, and the header's name. */
export interface ParamDeclaration {
  path: string[];
  header: string;
}

const PERMITTED_TYPES = new Set(['string', 'integer', 'boolean']);
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';

/** The marked arguments of a tool, down its chain of `properties` (the only place they may be). */
export function paramDeclarations(inputSchema: unknown): ParamDeclaration[] {
  const found: ParamDeclaration[] = [];
  const visit = (node: unknown, path: string[]) => {
    if (node === null || typeof node !== 'object') return;
    const schema = node as Record<string, unknown>;
    const header = schema['x-mcp-header'];
    if (path.length > 0 && typeof header === 'string' && header !== '' && PERMITTED_TYPES.has(String(schema['type'])))
      found.push({ path, header });
    const properties = schema['properties'];
    if (properties !== null && typeof properties === 'object')
      for (const [key, child] of Object.entries(properties as Record<string, unknown>)) visit(child, [...path, key]);
  };
  visit(inputSchema, []);
  return found;
}

/** Whether a value cannot travel as a plain header value: empty, padded, not printable ASCII, or like the sentinel. */
function needsBase64(value: string): boolean {
  if (value.length === 0 || value !== value.trim()) return true;
  if (value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX)) return true;
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c !== 9 && (c < 32 || c > 126)) return true;
  }
  return false;
}

/** An argument as text (strings as they are, numbers in decimal, booleans in lower case); undefined: no header. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' && Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value)))
    return String(value);
  return undefined;
}

/** The `Mcp-Param-*` headers of one call: null or absent arguments have none. */
export function paramHeaders(declarations: ParamDeclaration[], args: Record<string, unknown> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { path, header } of declarations) {
    let value: unknown = args;
    for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    const text = value === null || value === undefined ? undefined : asText(value);
    if (text === undefined) continue;
    headers[`Mcp-Param-${header}`] = needsBase64(text)
      ? `${SENTINEL_PREFIX}${Buffer.from(text, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`
      : text;
  }
  return headers;
}
