/**
 * The HTTP gateway under clients that will not play along (issue 20, items 7–10 and 18): one that
 * stops reading its SSE stream is dropped, not buffered for; half-open connections are capped and
 * cut, and the control socket stays usable meanwhile; a flood of initialize requests never closes
 * a session with a call in flight; another local user cannot use a loopback gateway without a
 * token; and a large unauthenticated body is not read to the end.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { rawPost, type RawAnswer } from '../support/http.js';

const TOKEN = 'a-test-token-of-32-characters-xx';

/** A raw JSON-RPC POST to `base` + `path`. */
function post(base: string, path: string, message: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return rawPost(`${base}${path}`, message, headers);
}

const initialize = (name: string) => ({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name, version: '1' } },
});

/** A session of the gateway: its id, after initialize and initialized. */
async function session(base: string, name: string, headers: Record<string, string> = {}): Promise<string> {
  const answer = await post(base, '/mcp', initialize(name), headers);
  expect(answer.status).toBe(200);
  const id = String(answer.headers['mcp-session-id']);
  await post(base, '/mcp', { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...headers, 'Mcp-Session-Id': id });
  return id;
}

describe('the gateway without a token (loopback)', () => {
  let t: TestDaemon;
  let base: string;

  beforeAll(async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry() }, gateway: { http: { port: 0 } } });
    base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
  }, 30_000);
  afterAll(() => t?.stop());

  it('drops a client that stops reading its SSE stream, instead of buffering for it', async () => {
    const id = await session(base, 'slow-reader');
    // A batch whose answer becomes a stream (progress goes first), then 24 MiB of results.
    const batch = [
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'fx__progress', arguments: { ms: 300, every: 50 }, _meta: { progressToken: 'p' } },
      },
      ...Array.from({ length: 24 }, (_, i) => ({
        jsonrpc: '2.0',
        id: i + 2,
        method: 'tools/call',
        params: { name: 'fx__big', arguments: { bytes: 1024 * 1024 } },
      })),
    ];
    const url = new URL(`${base}/mcp`);
    const socket: Socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = JSON.stringify(batch);
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${id}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.pause(); // and never reads again
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await waitFor(
      () => t.daemon.logs.read('daemon', 500).some((e) => e.text.includes('HTTP gateway: dropped an SSE stream')) || undefined,
      30_000,
      'the drop',
    );
    socket.resume(); // to see the end the daemon made
    await closed;
    // The session lives on: the client may resume.
    expect((await post(base, '/mcp', { jsonrpc: '2.0', id: 99, method: 'ping' }, { 'Mcp-Session-Id': id })).status).toBe(200);
  }, 60_000);

  it('caps half-open connections and cuts them; the control socket answers all along', async () => {
    const url = new URL(base);
    const sockets = Array.from({ length: 300 }, () => connect(Number(url.port), url.hostname));
    const closed = sockets.map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
    for (const s of sockets) {
      s.on('error', () => undefined);
      s.resume(); // to see the end the daemon makes
    }
    await waitFor(
      () => t.daemon.logs.read('daemon', 500).some((e) => e.text.includes('HTTP gateway: at its limit of 256 connections')) || undefined,
      20_000,
      'the cap to bite',
    );
    const client = await t.connect();
    expect((await client.request('status', {})).ready).toBe(true);
    // Every one of them is closed by the daemon (they send nothing, ever): the cut, or the cap.
    await Promise.all(closed);
    expect((await post(base, '/mcp', initialize('after-the-flood'))).status).toBe(200);
  }, 60_000);

  it('a flood of initialize requests never closes a session with a call in flight', async () => {
    const live = await session(base, 'live-host');
    const call = post(
      base,
      '/mcp',
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'fx__slow', arguments: { ms: 2_000 } } },
      { 'Mcp-Session-Id': live },
    );
    // Past the gateway's connection cap some are refused outright; the rest get a session or a 503.
    const flood = await Promise.all(
      Array.from({ length: 300 }, () =>
        post(base, '/mcp', initialize('flood')).then(
          (answer) => answer.status,
          () => 'refused',
        ),
      ),
    );
    expect(flood.every((outcome) => outcome === 200 || outcome === 503 || outcome === 'refused')).toBe(true);
    expect(flood.filter((outcome) => outcome === 200).length).toBeGreaterThan(0);
    const answer = await call;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'waited 2000 ms' }] } });
    // Still its session, afterwards too.
    expect((await post(base, '/mcp', { jsonrpc: '2.0', id: 8, method: 'ping' }, { 'Mcp-Session-Id': live })).status).toBe(200);
  }, 60_000);

  const root = process.getuid?.() === 0 && process.platform === 'linux';
  it.skipIf(!root)(
    'refuses another local user (made with useradd; needs root)',
    async () => {
      const user = 'mcpd-test-other';
      try {
        execFileSync('id', [user], { stdio: 'ignore' });
      } catch {
        execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', user]);
      }
      const dir = tempDir('mcpd-other-');
      const script = join(dir.path, 'probe.mjs');
      writeFileSync(
        script,
        // node:http, one connection, a deadline: whatever happens, it says so and exits.
        `const url = new URL(${JSON.stringify(`${base}/mcp`)});
const req = (await import('node:http')).request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, timeout: 20000,
  headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' } }, (res) => {
  let body = ''; res.setEncoding('utf8'); res.on('data', (c) => (body += c)); res.on('end', () => { console.log(res.statusCode, body); process.exit(0); });
});
req.on('timeout', () => { console.log('timeout'); process.exit(2); });
req.on('error', (e) => { console.log('error', e.message); process.exit(3); });
req.end(${JSON.stringify(JSON.stringify(initialize('intruder')))});`,
        { mode: 0o644 },
      );
      execFileSync('chmod', ['755', dir.path]);
      try {
        // Not execFileSync: the daemon answering it runs in this very process.
        const probe = await execa('runuser', ['-u', user, '--', process.execPath, script], { cwd: dir.path, reject: false });
        expect(probe.exitCode, String(probe.stderr)).toBe(0);
        const out = String(probe.stdout);
        expect(out).toMatch(/^403 .*another user \(uid \d+\) may not use this gateway/);
        // The daemon's own user still may.
        expect((await post(base, '/mcp', initialize('own-user'))).status).toBe(200);
      } finally {
        dir.cleanup();
      }
    },
    30_000,
  );
});

describe('the gateway with a token', () => {
  let t: TestDaemon;
  let base: string;

  beforeAll(async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry() }, gateway: { http: { port: 0, token: TOKEN } } });
    base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
  }, 30_000);
  afterAll(() => t?.stop());

  it('answers a large body without the token at once, and reads no more of it', async () => {
    const url = new URL(`${base}/mcp`);
    const socket = connect(Number(url.port), url.hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    const size = 100 * 1024 * 1024;
    socket.write(`POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // Keep sending, as a client would, until the daemon closes the connection.
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    while (!socket.destroyed && sent < size) {
      const ok = socket.write(chunk);
      sent += chunk.length;
      if (!ok)
        await new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('drain', resolve).once('close', resolve)));
    }
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 401 /);
    expect(sent).toBeLessThan(size);
  }, 60_000);
});
