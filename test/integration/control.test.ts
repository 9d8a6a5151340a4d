/**
 * The control socket as any client sees it: permissions, refusals, limits, malformed input,
 * events, cancellation, reload.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ControlClient } from '../../src/client/control-client.js';
import { ControlServer } from '../../src/fronts/control/server.js';
import { isMcpdError } from '../../src/errors.js';
import type { CatalogueChangedEvent, ServerStateEvent } from '../../src/protocol/types.js';
import { fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let t: TestDaemon;
let events: string;
const baseConfig = () => ({
  servers: {
    'fx.one': fixtureEntry({ FIXTURE_EVENTS: events, FIXTURE_TOOL_NAMES: `get.thing,tool with spaces,${'x'.repeat(100)}` }),
    two: fixtureEntry({}, { tools: { deny: ['die', 'big'] } }),
  },
});

beforeAll(async () => {
  const dir = tempDir('mcpd-ev-');
  events = join(dir.path, 'events.log');
  t = await startDaemon(baseConfig());
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

/** A raw WebSocket on the control socket, for what the typed client would never send. */
function raw(headers: Record<string, string> = {}): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws+unix://${t.daemon.paths.socket}:/`, { headers });
    const queue: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>;
      const waiter = waiters.shift();
      if (waiter) waiter(message);
      else queue.push(message);
    });
    ws.once('open', () =>
      resolve({ ws, next: () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))) }),
    );
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('control socket security', () => {
  it('is a 0600 socket in a 0700 folder', () => {
    expect(statSync(t.home).mode & 0o777).toBe(0o700);
    expect(statSync(t.daemon.paths.socket).mode & 0o777).toBe(0o600);
  });

  it('refuses any request with an Origin header, and a non-loopback Host', async () => {
    await expect(raw({ Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(raw({ Host: 'evil.example' })).rejects.toThrow('HTTP 403');
  });
});

describe('control socket protocol', () => {
  it('answers malformed input with JSON-RPC errors and stays up', async () => {
    const { ws, next } = await raw();
    ws.send('this is not json');
    expect(await next()).toMatchObject({ id: null, error: { code: -32700 } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'no.such.method' }));
    expect(await next()).toMatchObject({ id: 1, error: { code: -32601 } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools.call', params: { name: 42 } }));
    expect(await next()).toMatchObject({ id: 2, error: { code: -32602, message: expect.stringContaining('params.name') } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools.call', params: { name: 'two__echo', timeoutMs: 3_000_000_000 } }));
    expect(await next()).toMatchObject({
      id: 6,
      error: { code: -32602, message: expect.stringContaining('params.timeoutMs must be at most 2147483647') },
    });
    ws.send(JSON.stringify({ id: 3, method: 'status' }));
    expect(await next()).toMatchObject({ error: { code: -32600 } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'hello', params: { protocolVersion: 999 } }));
    expect(await next()).toMatchObject({ id: 4, error: { message: expect.stringContaining('not supported') } });
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await next()).toMatchObject({ error: { code: -32600 } });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'status' }));
    expect(await next()).toMatchObject({ id: 5, result: { ready: true } });
    ws.close();
  });

  it('closes a connection that sends more than 1 MiB in one message, and keeps serving others', async () => {
    const { ws } = await raw();
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools.call',
        params: { name: 'fx_one__echo', arguments: { message: 'x'.repeat(1024 * 1024) } },
      }),
    );
    expect(await closed).toBe(1009);
    const client = await t.connect();
    expect((await client.request('status', {})).ready).toBe(true);
  });

  it('carries a 16 MiB tool result to the client (no payload limit below it)', async () => {
    const client = await t.connect();
    const result = await client.request('tools.call', { name: 'fx_one__big', arguments: { bytes: 16 * 1024 * 1024 } });
    expect((result.content[0] as unknown as { text: string }).text).toHaveLength(16 * 1024 * 1024);
  });

  it('carries a result just under the 64 MiB a server may send, whole', async () => {
    const client = await t.connect();
    const bytes = 64 * 1024 * 1024 - 1024; // the JSON-RPC line around it fits in 64 MiB
    const result = await client.request('tools.call', { name: 'fx_one__big', arguments: { bytes } }, { timeoutMs: 60_000 });
    expect((result.content[0] as unknown as { text: string }).text).toHaveLength(bytes);
  }, 60_000);

  it('maps errors to stable codes', async () => {
    const client = await t.connect();
    await expect(client.request('tools.call', { name: 'nope__nothing' })).rejects.toSatisfy((e: unknown) =>
      isMcpdError(e, 'MCPD_TOOL_UNKNOWN'),
    );
    await expect(client.request('servers.restart', { name: 'ghost' })).rejects.toSatisfy((e: unknown) =>
      isMcpdError(e, 'MCPD_SERVER_UNKNOWN'),
    );
  });
});

describe('catalogue through the socket', () => {
  it('names odd tools validly and routes by table', async () => {
    const client = await t.connect();
    const { tools } = await client.request('tools.list', { server: 'fx.one' });
    const byOriginal = Object.fromEntries(tools.map((tool) => [tool.originalName, tool.name]));
    expect(byOriginal['get.thing']).toBe('fx_one__get_thing');
    expect(byOriginal['tool with spaces']).toBe('fx_one__tool_with_spaces');
    // Cut to gateway.maxNameLength (53 by default: room for a host's mcp__mcpd__ prefix).
    expect(byOriginal['x'.repeat(100)]).toHaveLength(53);
    for (const [original, name] of Object.entries(byOriginal)) {
      if (
        ['echo', 'big', 'fail', 'slow', 'die', 'add_tool', 'progress', 'ask', 'sample', 'roots', 'log', 'structured_only'].includes(
          original,
        )
      )
        continue;
      const result = await client.request('tools.call', { name: name });
      expect(result.content[0]).toMatchObject({ text: original });
    }
  });

  it('applies allow/deny globs per server', async () => {
    const client = await t.connect();
    const { tools } = await client.request('tools.list', { server: 'two' });
    expect(tools.map((tool) => tool.originalName).sort()).toEqual([
      'add_tool',
      'ask',
      'echo',
      'fail',
      'log',
      'progress',
      'roots',
      'sample',
      'slow',
      'structured_only',
    ]);
    await expect(client.request('tools.call', { name: 'two__die' })).rejects.toSatisfy((e: unknown) => isMcpdError(e, 'MCPD_TOOL_UNKNOWN'));
  });

  it('sends catalogue:changed for only the server whose list changed', async () => {
    const client = await t.connect();
    const changes: CatalogueChangedEvent[] = [];
    client.on('catalogue:changed', (e) => changes.push(e));
    await client.subscribe(['catalogue:changed']);
    await client.request('tools.call', { name: 'two__add_tool', arguments: { name: 'fresh' } });
    const change = await waitFor(() => changes.find((c) => c.kind === 'tools'), 5_000, 'catalogue:changed');
    expect(change).toMatchObject({ server: 'two', added: ['two__fresh'], removed: [] });
    const { tools } = await client.request('tools.list', {});
    expect(tools.some((tool) => tool.name === 'two__fresh')).toBe(true);
  });

  it('streams server:state events to subscribers', async () => {
    const client = await t.connect();
    const states: ServerStateEvent[] = [];
    client.on('server:state', (e) => states.push(e));
    await client.subscribe(['server:state']);
    await client.request('servers.restart', { name: 'two' });
    expect(states.filter((s) => s.server === 'two').map((s) => s.state)).toEqual(['stopping', 'stopped', 'starting', 'running']);
  });
});

describe('cancellation', () => {
  it('cancels a call when the client sends $/cancel, or disconnects', async () => {
    const client = await t.connect();
    const abort = new AbortController();
    const call = client
      .request('tools.call', { name: 'fx_one__slow', arguments: { ms: 10_000 } }, { signal: abort.signal })
      .catch((e: unknown) => e);
    setTimeout(() => abort.abort(new Error('user cancelled')), 150);
    expect(await call).toBeInstanceOf(Error);
    await waitFor(() => existsSync(events) && readFileSync(events, 'utf8').split('\n').filter(Boolean).length === 1, 5_000, 'first cancel');

    const other = await ControlClient.connect({ socketPath: t.daemon.paths.socket });
    void other.request('tools.call', { name: 'fx_one__slow', arguments: { ms: 10_000 } }).catch(() => undefined);
    setTimeout(() => other.close(), 150);
    await waitFor(() => readFileSync(events, 'utf8').split('\n').filter(Boolean).length === 2, 5_000, 'second cancel');
  });
});

describe('reload', () => {
  it('applies only the difference, and refuses an invalid config keeping the running one', async () => {
    const client = await t.connect();
    const before = await client.request('status', {});
    const pidOf = (s: typeof before, name: string) => s.servers.find((x) => x.name === name)?.pid;
    const config = baseConfig();
    t.writeConfig({ servers: { 'fx.one': config.servers['fx.one'], three: fixtureEntry() } });
    const result = await client.request('config.reload', {});
    expect(result).toMatchObject({ added: ['three'], removed: ['two'], changed: [], unchanged: ['fx.one'] });
    const after = await client.request('status', {});
    expect(pidOf(after, 'fx.one')).toBe(pidOf(before, 'fx.one'));
    expect(after.servers.map((s) => s.name).sort()).toEqual(['fx.one', 'three']);
    expect((await client.request('tools.list', { server: 'three' })).tools.length).toBeGreaterThan(0);

    t.writeConfig({ servers: { 'fx.one': { command: 42 }, three: { url: 'not a url' } } });
    await expect(client.request('config.reload', {})).rejects.toSatisfy(
      (e: unknown) =>
        isMcpdError(e, 'MCPD_CONFIG_INVALID') &&
        /servers\.fx\.one\.command/.test((e as Error).message) &&
        /servers\.three\.url/.test((e as Error).message),
    );
    const still = await client.request('status', {});
    expect(still.servers.map((s) => [s.name, s.state])).toEqual([
      ['fx.one', 'running'],
      ['three', 'running'],
    ]);
  });
});

describe('busy readers', () => {
  it('a client with many large results in flight is not dropped while it keeps reading', async () => {
    const client = await t.connect();
    const results = await Promise.all(
      Array.from({ length: 24 }, () =>
        client.request('tools.call', { name: 'fx_one__echo', arguments: { message: 'y'.repeat(900 * 1024) } }),
      ),
    );
    expect(results.every((r) => (r.content[0] as unknown as { text: string }).text.length === 900 * 1024)).toBe(true);
  });
});

describe('slow readers', () => {
  it('drops a client that stops reading instead of buffering without bound', async () => {
    const dir = tempDir('mcpd-slow-');
    const socketPath = join(dir.path, 's.sock');
    const server = new ControlServer({
      socketPath,
      handle: async () => ({}),
      toError: (e) => ({ code: -32603, message: String(e) }),
      log: () => undefined,
      limits: { softBufferedBytes: 256 * 1024, stallMs: 300 },
    });
    await server.listen();
    try {
      const ws = new WebSocket(`ws+unix://${socketPath}:/`);
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'events.subscribe', params: { events: ['log:line'] } }));
      await new Promise((r) => ws.once('message', r));
      (ws as unknown as { _socket: { pause(): void } })._socket.pause(); // stop reading
      const entry = { seq: 1, time: '', source: 'x', stream: 'stderr' as const, level: 'info' as const, text: 'y'.repeat(16 * 1024) };
      for (let i = 0; i < 2_000 && server.connectionCount > 0; i += 1) {
        server.broadcast('log:line', entry);
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await waitFor(() => server.connectionCount === 0, 5_000, 'the slow client to be dropped');
    } finally {
      await server.close();
      dir.cleanup();
    }
  });
});

describe('connection limits', () => {
  async function withServer(
    limits: Record<string, number>,
    body: (socketPath: string, server: ControlServer, logs: string[]) => Promise<void>,
  ): Promise<void> {
    const dir = tempDir('mcpd-lim-');
    const socketPath = join(dir.path, 's.sock');
    const logs: string[] = [];
    const server = new ControlServer({
      socketPath,
      handle: async (method) => (method === 'hello' ? { protocolVersion: 1, daemon: { version: 't', pid: process.pid } } : {}),
      toError: (e) => ({ code: -32603, message: String(e) }),
      log: (_level, text) => logs.push(text),
      limits,
    });
    await server.listen();
    try {
      await body(socketPath, server, logs);
    } finally {
      await server.close();
      dir.cleanup();
    }
  }

  const open = async (socketPath: string, hello = true): Promise<{ ws: WebSocket; closed: Promise<number> }> => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    if (hello) {
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hello', params: { protocolVersion: 1 } }));
      await new Promise((r) => ws.once('message', r));
    }
    return { ws, closed };
  };

  it('idle connections at the cap never lock out a fresh client: the oldest idle one makes room', async () => {
    await withServer({ maxConnections: 4 }, async (socketPath, server) => {
      const idle = [];
      for (let i = 0; i < 4; i += 1) idle.push(await open(socketPath, i % 2 === 0));
      const fresh = await ControlClient.connect({ socketPath });
      expect(server.connectionCount).toBe(4);
      // The one that never said hello went first.
      expect(await idle[1]!.closed).toBe(1013);
      fresh.close();
      for (const c of idle) c.ws.terminate();
    });
  });

  it('when every connection is busy (subscribed), a new one gets 503, never a silent hang', async () => {
    await withServer({ maxConnections: 2 }, async (socketPath) => {
      const busy = [];
      for (let i = 0; i < 2; i += 1) {
        const c = await open(socketPath);
        c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'events.subscribe', params: { events: ['log:line'] } }));
        await new Promise((r) => c.ws.once('message', r));
        busy.push(c);
      }
      await expect(open(socketPath, false)).rejects.toThrow('503');
      for (const c of busy) c.ws.terminate();
    });
  });

  it('a half-open connection (never upgraded) is cut at the handshake deadline', async () => {
    await withServer({ handshakeTimeoutMs: 300 }, async (socketPath) => {
      const { connect } = await import('node:net');
      const sockets = Array.from({ length: 20 }, () => connect(socketPath));
      // The server closes them (the client never does): the test would time out otherwise.
      await Promise.all(sockets.map((s) => new Promise((resolve) => s.once('close', resolve))));
    });
  });

  it('a connection that never says hello is closed at the hello deadline', async () => {
    await withServer({ helloTimeoutMs: 300 }, async (socketPath) => {
      const { closed } = await open(socketPath, false);
      expect(await closed).toBe(1008);
    });
  });

  it('an idle connection is closed after the idle timeout; a subscribed one is kept', async () => {
    await withServer({ idleTimeoutMs: 400 }, async (socketPath, server) => {
      const idle = await open(socketPath);
      const watching = await open(socketPath);
      watching.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'events.subscribe', params: { events: ['log:line'] } }));
      expect(await idle.closed).toBe(1000);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(server.connectionCount).toBe(1);
      watching.ws.terminate();
    });
  });

  it('refuses requests past the in-flight limit of a connection, at once', async () => {
    const dir = tempDir('mcpd-inf-');
    const socketPath = join(dir.path, 's.sock');
    const never = new Promise<never>(() => undefined);
    const server = new ControlServer({
      socketPath,
      handle: async (method) => (method === 'hello' ? { protocolVersion: 1, daemon: { version: 't', pid: process.pid } } : never),
      toError: (e) => ({ code: -32000, message: (e as Error).message }),
      log: () => undefined,
      limits: { maxRequestsInFlight: 3 },
    });
    await server.listen();
    try {
      const { ws } = await open(socketPath);
      const answers: Record<string, unknown>[] = [];
      ws.on('message', (data) => answers.push(JSON.parse((data as Buffer).toString('utf8')) as Record<string, unknown>));
      for (let id = 10; id < 15; id += 1) ws.send(JSON.stringify({ jsonrpc: '2.0', id, method: 'status' }));
      await waitFor(() => answers.length >= 2, 2_000, 'the refusals');
      expect(answers.map((a) => a['id']).sort()).toEqual([13, 14]);
      expect(JSON.stringify(answers[0])).toContain('Too many requests in flight');
      ws.terminate();
    } finally {
      await server.close();
      dir.cleanup();
    }
  });

  it('bounds unread output across clients: the one furthest behind is dropped', async () => {
    await withServer({ maxTotalBufferedBytes: 1024 * 1024, stallMs: 60_000 }, async (socketPath, server, logs) => {
      const slow = [];
      for (let i = 0; i < 3; i += 1) {
        const c = await open(socketPath);
        c.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'events.subscribe', params: { events: ['log:line'] } }));
        await new Promise((r) => c.ws.once('message', r));
        (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
        slow.push(c);
      }
      const entry = { seq: 1, time: '', source: 'x', stream: 'stderr' as const, level: 'info' as const, text: 'y'.repeat(64 * 1024) };
      for (let i = 0; i < 400 && server.connectionCount === 3; i += 1) {
        server.broadcast('log:line', entry);
        if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      expect(server.connectionCount).toBeLessThan(3);
      expect(logs.some((l) => l.includes('unread bytes in all'))).toBe(true);
      for (const c of slow) c.ws.terminate();
    });
  });
});
