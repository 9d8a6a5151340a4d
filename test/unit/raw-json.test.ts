import { describe, expect, it } from 'vitest';
import { attachRawJson, forgetRawJson, rawJsonOf, rawResultOf, responseWithRawResult } from '../../src/hotpath/raw-json.js';

/** What a control client reads from the reply the daemon writes around a line's raw result. */
function relayed(line: string, ourId: number): unknown {
  const parsed = JSON.parse(line) as { id: string };
  const raw = rawResultOf(line, JSON.stringify(parsed.id));
  if (raw === undefined) return undefined;
  return JSON.parse(responseWithRawResult(ourId, raw));
}

describe('raw results', () => {
  const result = { content: [{ type: 'text', text: 'héllo "quoted" \\u2028 \n' }], structuredContent: { n: 1 } };

  it("takes the result's text in both orders servers write, and the reply reads as the result", () => {
    const tsOrder = JSON.stringify({ result, jsonrpc: '2.0', id: 'mcpd-5' });
    const pyOrder = JSON.stringify({ jsonrpc: '2.0', id: 'mcpd-5', result });
    for (const line of [tsOrder, pyOrder]) {
      expect(rawResultOf(line, '"mcpd-5"')).toBe(JSON.stringify(result));
      expect(relayed(line, 7)).toEqual({ jsonrpc: '2.0', id: 7, result });
    }
  });

  it('gives up on any other form: spaces, other orders, another id', () => {
    expect(rawResultOf(JSON.stringify({ jsonrpc: '2.0', id: 'mcpd-5', result }, null, 1).replace(/\n/g, ''), '"mcpd-5"')).toBeUndefined();
    expect(rawResultOf(JSON.stringify({ id: 'mcpd-5', result, jsonrpc: '2.0' }), '"mcpd-5"')).toBeUndefined();
    expect(rawResultOf(JSON.stringify({ result, jsonrpc: '2.0', id: 'mcpd-6' }), '"mcpd-5"')).toBeUndefined();
  });

  it('a line with extra or repeated members reads in the reply as it read to the daemon, with our id', () => {
    // A server cannot slip another id, a second result or an error past the daemon: the reply's own members come last.
    const lines = [
      '{"result":{"content":[]},"id":"zzz","jsonrpc":"1.0","extra":true,"jsonrpc":"2.0","id":"mcpd-5"}',
      '{"result":{"content":[{"type":"text","text":"a"}]},"result":{"content":[{"type":"text","text":"b"}]},"jsonrpc":"2.0","id":"mcpd-5"}',
      '{"jsonrpc":"2.0","id":"mcpd-5","result":{"content":[]},"id":"mcpd-5","x":[1,{"y":"}"}]}',
    ];
    for (const line of lines) {
      const daemonSaw = JSON.parse(line) as { result: unknown };
      const client = relayed(line, 7) as { id: unknown; jsonrpc: unknown; result: unknown; error?: unknown };
      expect(client.id).toBe(7);
      expect(client.jsonrpc).toBe('2.0');
      expect(client.result).toEqual(daemonSaw.result);
      expect(client.error).toBeUndefined();
    }
  });

  it('rides on the object out of sight, and is forgotten when the object changes', () => {
    const value = { content: [] as unknown[] };
    attachRawJson(value, '{"content":[]}');
    expect(rawJsonOf(value)).toBe('{"content":[]}');
    expect(Object.keys(value)).toEqual(['content']);
    expect(rawJsonOf({ ...value })).toBeUndefined();
    expect(rawJsonOf(structuredClone(value))).toBeUndefined();
    expect(JSON.stringify(value)).toBe('{"content":[]}');
    forgetRawJson(value);
    expect(rawJsonOf(value)).toBeUndefined();
    expect(rawJsonOf(null)).toBeUndefined();
    expect(rawJsonOf('text')).toBeUndefined();
  });
});
