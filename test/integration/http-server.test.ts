/**
 * A remote server over Streamable HTTP: server-everything in its HTTP mode on loopback.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
let http: ResultPromise;
let port: number;
let t: TestDaemon;

async function startHttpServer(): Promise<void> {
  http = execa(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PORT: String(port) }, reject: false });
  let err = '';
  http.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await waitFor(() => err.includes('listening on port'), 15_000, 'the HTTP server');
}

beforeAll(async () => {
  port = await freePort();
  await startHttpServer();
  t = await startDaemon({
    servers: {
      remote: {
        url: `http://127.0.0.1:${port}/mcp`,
        headers: { 'X-Test': 'mcpd' },
        timeouts: { startupMs: 20_000, pingIntervalMs: 200, pingTimeoutMs: 300 },
        restart: { initialDelayMs: 100, maxDelayMs: 200, maxRestarts: 50 },
      },
    },
  });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  http?.kill('SIGKILL');
});

describe('a remote Streamable HTTP server', () => {
  it('connects, lists its tools, and takes calls', async () => {
    const client = await t.connect();
    const status = await client.request('status', {});
    expect(status.servers[0]).toMatchObject({ name: 'remote', transport: 'http', state: 'running', pid: null });
    const echo = await client.request('tools.call', { name: 'remote__echo', arguments: { message: 'over http' } });
    expect(echo.content[0]).toMatchObject({ text: 'Echo: over http' });
  });

  it('notices the server going away, backs off, and reconnects when it is back', async () => {
    const client = await t.connect();
    http.kill('SIGKILL');
    await http;
    await waitFor(async () => (await client.request('status', {})).servers[0]!.state === 'backoff', 10_000, 'backoff');
    await startHttpServer();
    await waitFor(async () => (await client.request('status', {})).servers[0]!.state === 'running', 15_000, 'running again');
    const echo = await client.request('tools.call', { name: 'remote__echo', arguments: { message: 'back' } });
    expect(echo.content[0]).toMatchObject({ text: 'Echo: back' });
  }, 40_000);
});
