/**
 * Which tool calls the gateway's quick paths take (the rest go to the SDK's servers): the plain
 * ones test/integration/gateway-quick.test.ts sends, and nothing that needs the SDK — a task, a
 * related task, a progress token, a retry, a header that does not match the body or is encoded.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { errorResponse, plainCall } from '../../src/fronts/mcp/quick-calls.js';
import { quickAnswer, quickCallOf } from '../../src/fronts/mcp-http/quick.js';
import { attachRawJson } from '../../src/hotpath/raw-json.js';

const call = (params: Record<string, unknown>, id: unknown = 7) => ({ jsonrpc: '2.0', id, method: 'tools/call', params });

describe('plainCall (2025 sessions)', () => {
  it('takes a call with a name, arguments and a progress token', () => {
    expect(plainCall(call({ name: 'echo', arguments: { a: 1 }, _meta: { progressToken: 3 } }))).toEqual({
      id: 7,
      name: 'echo',
      arguments: { a: 1 },
      meta: { progressToken: 3 },
    });
  });

  it('leaves to the SDK what it must validate or what needs it', () => {
    expect(plainCall(call({ name: 'echo', task: { ttl: 1000 } }))).toBeUndefined();
    expect(plainCall(call({ name: 'echo', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } }))).toBeUndefined();
    expect(plainCall(call({ name: 'echo', extra: 1 }))).toBeUndefined();
    expect(plainCall(call({ name: 'echo', arguments: [1] }))).toBeUndefined();
    expect(plainCall(call({ name: 42 }))).toBeUndefined();
    expect(plainCall(call({ name: 'echo' }, 1.5))).toBeUndefined();
    expect(plainCall(call({ name: 'echo', _meta: { progressToken: { no: 1 } } }))).toBeUndefined();
    expect(plainCall({ ...call({ name: 'echo' }), method: 'tools/list' })).toBeUndefined();
  });

  it('answers what a handler threw as the SDK does', () => {
    expect(errorResponse(7, Object.assign(new Error('no such tool'), { code: -32602, data: { code: 'X' } }))).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32602, message: 'no such tool', data: { code: 'X' } },
    });
    expect(errorResponse('a', new Error('boom'))).toEqual({ jsonrpc: '2.0', id: 'a', error: { code: -32603, message: 'boom' } });
  });
});

const REVISION = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': REVISION,
  'io.modelcontextprotocol/clientCapabilities': {},
};
const HEADERS = {
  'content-type': 'application/json',
  'mcp-protocol-version': REVISION,
  'mcp-method': 'tools/call',
  'mcp-name': 'echo',
};
const request = (headers: Record<string, string> = {}) => ({ headers: { ...HEADERS, ...headers } }) as unknown as IncomingMessage;

describe('quickCallOf (2026 requests)', () => {
  it('takes a plain call whose headers agree with it', () => {
    expect(quickCallOf(request(), call({ name: 'echo', arguments: { a: 1 }, _meta: META }))).toEqual({
      id: 7,
      name: 'echo',
      arguments: { a: 1 },
      envelope: META,
    });
  });

  it('leaves progress, log levels, retries, odd headers and other content to the SDK', () => {
    const plain = { name: 'echo', _meta: META };
    expect(quickCallOf(request(), call({ ...plain, _meta: { ...META, progressToken: 1 } }))).toBeUndefined();
    expect(quickCallOf(request(), call({ ...plain, _meta: { ...META, 'io.modelcontextprotocol/logLevel': 'info' } }))).toBeUndefined();
    expect(quickCallOf(request(), call({ ...plain, requestState: 's' }))).toBeUndefined();
    expect(quickCallOf(request(), call({ ...plain, inputResponses: {} }))).toBeUndefined();
    expect(quickCallOf(request({ 'mcp-name': 'other' }), call(plain))).toBeUndefined();
    expect(quickCallOf(request({ 'mcp-name': '=?base64?ZWNobw==?=' }), call(plain))).toBeUndefined();
    expect(quickCallOf(request({ 'mcp-method': 'tools/list' }), call(plain))).toBeUndefined();
    expect(quickCallOf(request({ 'content-type': 'text/plain' }), call(plain))).toBeUndefined();
    const { 'mcp-name': _name, ...noName } = HEADERS;
    expect(quickCallOf({ headers: noName } as unknown as IncomingMessage, call(plain))).toBeUndefined();
    expect(quickCallOf(request(), call({ name: 'echo' }))).toBeUndefined();
  });
});

describe('quickAnswer', () => {
  const info = { name: 'mcpd', version: '1' };

  it("stamps resultType and the server's identity, into the server's own text when it is untouched", () => {
    const result = { content: [{ type: 'text', text: 'hi' }] };
    attachRawJson(result, '{"content":[{"type":"text","text":"hi"}]}');
    const answer = quickAnswer(7, { result }, info);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { ...result, resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': info } },
    });
    const own = quickAnswer(7, { result: { content: [], _meta: { mine: 1 }, resultType: 'complete' } }, info);
    expect((JSON.parse(own.body) as { result: unknown }).result).toEqual({
      content: [],
      resultType: 'complete',
      _meta: { mine: 1, 'io.modelcontextprotocol/serverInfo': info },
    });
  });

  it('answers errors with their codes: 400 for a missing capability, resource-not-found renumbered', () => {
    const missing = quickAnswer(7, { error: Object.assign(new Error('needs elicitation'), { code: -32021 }) }, info);
    expect(missing.status).toBe(400);
    expect((JSON.parse(missing.body) as { error: unknown }).error).toEqual({ code: -32021, message: 'needs elicitation' });
    const gone = quickAnswer(7, { error: Object.assign(new Error('no resource'), { code: -32002 }) }, info);
    expect(gone.status).toBe(200);
    expect((JSON.parse(gone.body) as { error: { code: number } }).error.code).toBe(-32602);
  });
});
