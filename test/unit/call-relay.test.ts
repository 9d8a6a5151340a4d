/**
 * The call relay's own rules, message by message (the integration tests run it against real
 * servers: timeouts, cancel, progress, a server dying mid-call).
 */
import { ErrorCode, McpError, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { CallRelay } from '../../src/hotpath/call-relay.js';
import { LazyAbort, abortSignalOf, whenAborted } from '../../src/hotpath/lazy-abort.js';

function relay() {
  const sent: Record<string, unknown>[] = [];
  const calls = new CallRelay(async (message: JSONRPCMessage) => {
    sent.push(message);
  });
  return { calls, sent };
}

const idOf = (message: Record<string, unknown>) => message['id'] as string;

describe('CallRelay', () => {
  it('sends a request with its id as the progress token, and takes only its own answers', async () => {
    const { calls, sent } = relay();
    const progress: unknown[] = [];
    const answer = calls.request(
      'tools/call',
      { name: 'echo', arguments: { message: 'hi' } },
      { timeoutMs: 5_000, onProgress: (p) => progress.push(p) },
    );
    const id = idOf(sent[0]!);
    expect(sent[0]).toMatchObject({
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'hi' }, _meta: { progressToken: id } },
    });
    // The SDK's numeric ids and other tokens are not ours.
    expect(calls.take({ jsonrpc: '2.0', id: 1, result: {} })).toBe(false);
    expect(calls.take({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 7, progress: 1 } })).toBe(false);
    expect(
      calls.take({
        jsonrpc: '2.0',
        method: 'notifications/progress',
        params: { progressToken: id, progress: 1, total: 2, message: 'half' },
      }),
    ).toBe(true);
    expect(calls.take({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'hi' }] } })).toBe(true);
    await expect(answer).resolves.toEqual({ content: [{ type: 'text', text: 'hi' }] });
    expect(progress).toEqual([{ progress: 1, total: 2, message: 'half' }]);
    expect(calls.take({ jsonrpc: '2.0', id, result: {} })).toBe(false); // answered already
    expect(calls.inFlight).toBe(0);
  });

  it("fails with the server's error as an McpError", async () => {
    const { calls, sent } = relay();
    const answer = calls.request('tools/call', { name: 'x' }, { timeoutMs: 5_000 });
    calls.take({ jsonrpc: '2.0', id: idOf(sent[0]!), error: { code: -32602, message: 'Unknown tool: x' } });
    await expect(answer).rejects.toSatisfy(
      (e: unknown) => e instanceof McpError && e.code === -32602 && e.message.includes('Unknown tool: x'),
    );
  });

  it('times out, tells the server, and progress pushes the deadline back', async () => {
    vi.useFakeTimers();
    try {
      const { calls, sent } = relay();
      let settled: unknown;
      const answer = calls.request('tools/call', { name: 'slow' }, { timeoutMs: 150 });
      answer.catch((e: unknown) => (settled = e));
      const id = idOf(sent[0]!);
      await vi.advanceTimersByTimeAsync(100);
      calls.take({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: id, progress: 1 } });
      // 150 ms after the start it would have timed out; the progress at 100 ms moved that to 250.
      await vi.advanceTimersByTimeAsync(149);
      expect(settled).toBeUndefined();
      expect(sent).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBeInstanceOf(McpError);
      expect((settled as McpError).code).toBe(Number(ErrorCode.RequestTimeout));
      expect(sent[1]).toMatchObject({ method: 'notifications/cancelled', params: { requestId: id } });
    } finally {
      vi.useRealTimers();
    }
  });

  it("cancels on a control request's LazyAbort and on a plain signal, telling the server", async () => {
    const reason = new Error('cancelled by the client');
    const lazy = new LazyAbort();
    const plain = new AbortController();
    for (const [signal, abort] of [
      [lazy, () => lazy.abort(reason)],
      [plain.signal, () => plain.abort(reason)],
    ] as const) {
      const { calls, sent } = relay();
      const answer = calls.request('tools/call', { name: 'slow' }, { timeoutMs: 5_000, signal });
      abort();
      await expect(answer).rejects.toBe(reason);
      expect(sent[1]).toMatchObject({
        method: 'notifications/cancelled',
        params: { requestId: idOf(sent[0]!), reason: 'cancelled by the client' },
      });
    }
    // Already aborted: nothing is sent.
    const { calls, sent } = relay();
    const done = new AbortController();
    done.abort(new Error('late'));
    await expect(calls.request('tools/call', {}, { timeoutMs: 5_000, signal: done.signal })).rejects.toThrow('late');
    expect(sent).toHaveLength(0);
  });

  it('fails every call in flight when the connection closes, and any later one at once', async () => {
    const { calls } = relay();
    const one = calls.request('tools/call', {}, { timeoutMs: 5_000 });
    const two = calls.request('tools/call', {}, { timeoutMs: 5_000 });
    calls.close();
    for (const answer of [one, two, calls.request('tools/call', {}, { timeoutMs: 5_000 })]) {
      await expect(answer).rejects.toSatisfy((e: unknown) => e instanceof McpError && e.code === Number(ErrorCode.ConnectionClosed));
    }
  });

  it('fails a call whose request could not be written', async () => {
    const calls = new CallRelay(() => Promise.reject(new Error('not reading')));
    await expect(calls.request('tools/call', {}, { timeoutMs: 5_000 })).rejects.toThrow('not reading');
    expect(calls.inFlight).toBe(0);
  });
});

describe('LazyAbort', () => {
  it('calls back without a listener, once; forgetting works; a plain signal is heard too', () => {
    const heard: string[] = [];
    const lazy = new LazyAbort();
    whenAborted(lazy, () => heard.push('lazy'));
    const forget = whenAborted(lazy, () => heard.push('forgotten'));
    forget();
    const plain = new AbortController();
    whenAborted(plain.signal, () => heard.push('plain'));
    lazy.abort(new Error('x'));
    lazy.abort(new Error('twice')); // once only
    plain.abort();
    expect(heard).toEqual(['lazy', 'plain']);
    expect(lazy.aborted).toBe(true);
    expect(lazy.reason).toEqual(new Error('x'));
  });

  it('makes a real AbortSignal only when asked, aborted with it or already aborted', () => {
    const before = new LazyAbort();
    const signal = before.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(abortSignalOf(before)).toBe(signal);
    expect(signal.aborted).toBe(false);
    before.abort('stop');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe('stop');

    const after = new LazyAbort();
    after.abort('late');
    expect(after.signal.aborted).toBe(true);
    expect(after.signal.reason).toBe('late');

    const plain = new AbortController().signal;
    expect(abortSignalOf(plain)).toBe(plain);
    expect(abortSignalOf(undefined)).toBeUndefined();
  });
});
