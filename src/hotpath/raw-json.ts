/**
 * A tool's result passed on as the server wrote it. The daemon parses a server's response (it
 * needs the id, the shape, and a plugin may look at the result), but writing the same result
 * out again for the control client cost as much again: JSON.stringify of a 1 MiB result takes
 * 1.5 ms, a fifth of what the daemon spent on such a call. So the result object carries the text
 * it was parsed from, and the control socket's reply embeds that text instead.
 *
 * The text stays true only while nobody changes the object: it is kept on the object itself
 * (non-enumerable, so spreads and clones leave it behind), and whoever changes the object
 * forgets it (`forgetRawJson`); a plugin's afterToolCall works on a copy and returns a new object.
 */
const RAW_JSON = Symbol('mcpd.rawJson');

type Carrier = { [RAW_JSON]?: string };

export function attachRawJson(value: object, text: string): void {
  Object.defineProperty(value, RAW_JSON, { value: text, configurable: true, writable: true, enumerable: false });
}

export function rawJsonOf(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? (value as Carrier)[RAW_JSON] : undefined;
}

export function forgetRawJson(value: object): void {
  if ((value as Carrier)[RAW_JSON] !== undefined) (value as Carrier)[RAW_JSON] = undefined;
}

const RESULT_FIRST = '{"result":';

/**
 * The text of a response's `result` in the line it came in, for the two orders servers write
 * their members in: `{"result":R,"jsonrpc":"2.0","id":ID}` (the TypeScript SDK) and
 * `{"jsonrpc":"2.0","id":ID,"result":R}` (the Python SDK and most others); undefined for any
 * other form (spaces, other orders), which is then written out afresh.
 *
 * The line parsed as one JSON object, so R is the result's value, possibly followed by more
 * members of that object (`,"name":value`), never more than that. Written back as
 * `{"result":R,"jsonrpc":"2.0","id":OURS}` it parses as the line did: the last of a repeated
 * name wins in JSON.parse, and the reply's own `jsonrpc` and `id` come last.
 */
export function rawResultOf(line: string, idJson: string): string | undefined {
  if (line.startsWith(RESULT_FIRST)) {
    const tail = `,"jsonrpc":"2.0","id":${idJson}}`;
    return line.endsWith(tail) ? line.slice(RESULT_FIRST.length, line.length - tail.length) : undefined;
  }
  const head = `{"jsonrpc":"2.0","id":${idJson},"result":`;
  return line.startsWith(head) && line.endsWith('}') ? line.slice(head.length, line.length - 1) : undefined;
}

/** A JSON-RPC response around a result's raw text: the result first, our members last (see rawResultOf). */
export function responseWithRawResult(id: string | number, rawResult: string): string {
  return `${RESULT_FIRST}${rawResult},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
}

/** A JSON-RPC message's text: a response whose result carries its server's text embeds that text. */
export function messageText(message: object): string {
  const fields = message as { id?: unknown; result?: unknown };
  const raw = 'result' in fields ? rawJsonOf(fields.result) : undefined;
  return raw !== undefined && (typeof fields.id === 'string' || typeof fields.id === 'number')
    ? responseWithRawResult(fields.id, raw)
    : JSON.stringify(message);
}
