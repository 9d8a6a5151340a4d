/**
 * The fetch mcpd gives the SDK's HTTP client: one AbortSignal per request, so a long-lived
 * connection's signal does not gather a listener per call (Node's fetch never removes them),
 * while aborting the connection still ends what is in flight. Against a real loopback server.
 */
import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortIsolatingFetch } from '../../src/upstream/http/isolated-fetch.js';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (req.url === '/empty') return res.writeHead(202).end();
    if (req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      return res.end('data: two\n\n');
    }
    // An SSE stream that stays open.
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: open\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('abortIsolatingFetch', () => {
  it('leaves no listener on the shared signal once answers are read', async () => {
    const shared = new AbortController();
    const isolated = abortIsolatingFetch();
    for (let i = 0; i < 50; i += 1) {
      expect(await (await isolated(`${base}/json`, { signal: shared.signal })).json()).toEqual({ ok: true });
      expect((await isolated(`${base}/empty`, { method: 'POST', signal: shared.signal })).status).toBe(202);
      expect(await (await isolated(`${base}/sse`, { signal: shared.signal })).text()).toBe('data: one\n\ndata: two\n\n');
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    // Plain fetch with the same signal gathers one per request: the leak this avoids.
    const plain = new AbortController();
    for (let i = 0; i < 5; i += 1) await (await fetch(`${base}/json`, { signal: plain.signal })).json();
    expect(getEventListeners(plain.signal, 'abort').length).toBeGreaterThanOrEqual(5);
  });

  it('aborting the shared signal still ends an open stream, and a cancelled reader lets go', async () => {
    const shared = new AbortController();
    const isolated = abortIsolatingFetch();
    const open = await isolated(`${base}/open`, { signal: shared.signal });
    const reader: ReadableStreamDefaultReader<Uint8Array> = open.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('data: open\n\n');
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    const next = reader.read();
    shared.abort();
    await expect(next).rejects.toThrow();

    const again = new AbortController();
    const cancelled = await isolated(`${base}/open`, { signal: again.signal });
    await cancelled.body!.cancel();
    expect(getEventListeners(again.signal, 'abort')).toHaveLength(0);
  });
});
