/**
 * Remote servers as users meet them: a legacy SSE server (by "type", and found by the fallback
 * from Streamable HTTP), a server that wants authorization (401 → needs-auth, no restart loop),
 * a wrong URL, a port nothing listens on, and headers whose values come from a command.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerStatus } from '../../src/protocol/types.js';
import { FAST_RESTART, freePort, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const SSE_FIXTURE = join(ROOT, 'test/fixtures/sse-server.mjs');
const SECRET = 's3cret-token-never-logged';
const fixtures: ResultPromise[] = [];
let open: { port: number };
let guarded: { port: number };
let unauthorized: Server;
let t: TestDaemon;

async function sseFixture(env: Record<string, string> = {}): Promise<{ port: number }> {
  const child = execa(process.execPath, [SSE_FIXTURE], { env, reject: false, buffer: false });
  fixtures.push(child);
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { port };
}

const remote = (url: string, extra: Record<string, unknown> = {}) => ({
  url,
  timeouts: { startupMs: 20_000 },
  restart: FAST_RESTART,
  ...extra,
});

beforeAll(async () => {
  open = await sseFixture();
  guarded = await sseFixture({ FIXTURE_REQUIRE_AUTH: SECRET });
  unauthorized = createServer((_req, res) => res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="x"' }).end());
  await new Promise<void>((resolve) => unauthorized.listen(0, '127.0.0.1', resolve));
  const refused = await freePort();
  const node = process.execPath;
  t = await startDaemon({
    servers: {
      legacy: remote(`http://127.0.0.1:${open.port}/sse`, { type: 'sse' }),
      fallback: remote(`http://127.0.0.1:${open.port}/sse`),
      locked: remote(`http://127.0.0.1:${(unauthorized.address() as AddressInfo).port}/mcp`),
      // Closes its connection when idle, opens it again for a call.
      sleepy: remote(`http://127.0.0.1:${open.port}/sse`, { type: 'sse', idleStopMs: 300 }),
      wrong: remote(`http://127.0.0.1:${open.port}/nope`, { type: 'http' }),
      refused: remote(`http://127.0.0.1:${refused}/mcp`),
      helper: remote(`http://127.0.0.1:${guarded.port}/sse`, {
        type: 'sse',
        headers: { Authorization: { command: [node, '-e', `console.log(${JSON.stringify(SECRET)})`], prefix: 'Bearer ' } },
      }),
      badhelper: remote(`http://127.0.0.1:${guarded.port}/sse`, {
        type: 'sse',
        headers: { Authorization: { command: [node, '-e', 'process.exit(3)'] } },
      }),
    },
  });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  unauthorized?.close();
  for (const child of fixtures) child.kill('SIGTERM');
});

const status = (name: string): ServerStatus => t.daemon.status().servers.find((s) => s.name === name)!;
const settled = (name: string, state: ServerStatus['state']) =>
  waitFor(() => status(name).state === state || undefined, 10_000, `${name} to be ${state}: ${JSON.stringify(status(name))}`);

describe('remote servers', () => {
  it('an idle stop closes the connection; the next call opens it again', async () => {
    await settled('sleepy', 'idle');
    expect(status('sleepy')).toMatchObject({ transport: 'sse', toolCount: 1, pid: null });
    const client = await t.connect();
    expect(await client.request('tools.call', { name: 'sleepy__echo', arguments: { message: 'awake' } })).toMatchObject({
      content: [{ type: 'text', text: expect.stringContaining('awake') }],
    });
    expect(t.daemon.logs.read('sleepy', 100).map((l) => l.text)).toEqual(
      expect.arrayContaining([expect.stringContaining('waking: a request needs it')]),
    );
    client.close();
  });

  it('a legacy SSE server works with "type": "sse", and is found by the fallback without a type', async () => {
    await settled('legacy', 'running');
    await settled('fallback', 'running');
    expect(status('legacy')).toMatchObject({ transport: 'sse', toolCount: 1 });
    expect(status('fallback')).toMatchObject({ transport: 'sse', toolCount: 1 });
    const client = await t.connect();
    expect(await client.request('tools.call', { name: 'fallback__echo', arguments: { message: 'over sse' } })).toEqual({
      content: [{ type: 'text', text: 'over sse' }],
    });
    expect(
      t.daemon.logs
        .read('fallback', 50)
        .map((e) => e.text)
        .join('\n'),
    ).toContain('Streamable HTTP answered 405; trying the legacy SSE transport');
  });

  it('401: needs-auth, says what to run, and does not loop', async () => {
    await settled('locked', 'needs-auth');
    const locked = status('locked');
    expect(locked.lastError).toMatchObject({ code: 'MCPD_SERVER_NEEDS_AUTH', details: { status: 401 } });
    expect(locked.lastError!.message).toMatch(/needs authorization: .* answered 401 Unauthorized\. Sign in with: mcpd auth locked/);
    await new Promise((r) => setTimeout(r, 600));
    expect(status('locked')).toMatchObject({ state: 'needs-auth', restarts: 0 });
    const client = await t.connect();
    await expect(client.request('servers.restart', { name: 'locked' })).resolves.toMatchObject({ server: { state: 'needs-auth' } });
  });

  it('a wrong URL and a refused port say so, by name', async () => {
    await waitFor(() => status('wrong').lastError ?? undefined, 10_000, 'wrong to fail');
    // Retried with backoff (on a loaded machine the crash-loop limit may already have been hit: it names the cause then).
    expect(status('wrong').lastError).toMatchObject({
      code: expect.stringMatching(/^MCPD_SERVER_(HTTP_ERROR|CRASH_LOOP)$/),
      message: expect.stringContaining('answered 404 Not Found: wrong URL, or not a Streamable HTTP endpoint'),
    });
    await waitFor(() => status('refused').lastError ?? undefined, 10_000, 'refused to fail');
    expect(status('refused').lastError).toMatchObject({
      code: expect.stringMatching(/^MCPD_SERVER_(UNREACHABLE|CRASH_LOOP)$/),
      message: expect.stringContaining('the connection was refused'),
    });
    expect(status('refused').state).not.toBe('needs-auth');
  });

  it('a header from a command: the server gets it, and it shows nowhere', async () => {
    await settled('helper', 'running');
    const client = await t.connect();
    expect(await client.request('tools.call', { name: 'helper__echo', arguments: { message: 'authorized' } })).toEqual({
      content: [{ type: 'text', text: 'authorized' }],
    });
    const everything = JSON.stringify([await client.request('status', {}), t.daemon.logs.read(undefined, 5_000)]);
    expect(everything).not.toContain(SECRET);
    await waitFor(() => status('badhelper').lastError ?? undefined, 10_000, 'badhelper to fail');
    expect(status('badhelper').lastError!.message).toContain(
      'the command for header Authorization (servers.badhelper.headers.Authorization.command:',
    );
    expect(status('badhelper').lastError!.message).toContain('exited with 3');
  });
});
