/**
 * The dashboard's door, over real HTTP and WebSockets against a real daemon: the token from
 * `ui.open` is exchanged for a cookie; without it, from another origin, or under another Host,
 * nothing is served and the live connection is refused. (What a person sees is tested in a real
 * browser: test/e2e/ui-browser.test.ts.)
 */
import { statSync, readFileSync, existsSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEntry, freePort } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path is sent as written (no URL normalisation), headers exactly as given. */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Opens the live connection; resolves with the upgrade's refusal status, or the open socket. */
function live(port: number, headers: Record<string, string>): Promise<{ status: number } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ui/ws`, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode! });
      res.resume();
    });
    ws.once('error', reject);
  });
}

function rpc(ws: WebSocket, method: string, params: unknown, id: number): Promise<{ result?: unknown; error?: { message: string } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as { id?: number };
      if (message.id !== id) return;
      ws.off('message', onMessage);
      resolve(message as { result?: unknown; error?: { message: string } });
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}

function cookieOf(answer: Answer): string {
  const set = answer.headers['set-cookie']?.[0] ?? '';
  return set.split(';')[0]!;
}

describe('the dashboard on its own loopback port', () => {
  let t: TestDaemon;
  let url: URL;
  let port: number;
  let cookie: string;

  beforeAll(async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry({ SECRET_KEY: 'sk-live-123' }) } });
    const client = await t.connect();
    url = new URL((await client.request('ui.open', {})).url);
    port = Number(url.port);
  }, 30_000);
  afterAll(() => t?.stop());

  it('gives a loopback login URL, with the token kept 0600 in the home', async () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe('/ui/login');
    const token = url.searchParams.get('token')!;
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(join(t.home, 'ui.token'), 'utf8').trim()).toBe(token);
    expect(statSync(join(t.home, 'ui.token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.home, 'ui.key')).mode & 0o777).toBe(0o600);
    // Asking again gives the same dashboard, not a second port.
    const again = new URL((await (await t.connect()).request('ui.open', {})).url);
    expect(again.port).toBe(url.port);
  });

  it('refuses everything without the cookie, and a wrong token', async () => {
    for (const path of ['/ui/', '/ui/app.js', '/ui/vendor/preact.js']) {
      const answer = await get(port, path);
      expect(answer.status, path).toBe(401);
      expect(answer.body).toContain('mcpd ui');
    }
    expect((await get(port, '/ui/login?token=nope')).status).toBe(401);
    expect((await get(port, '/ui/login')).status).toBe(401);
    expect(await live(port, { origin: `http://127.0.0.1:${port}` })).toEqual({ status: 401 });
  });

  it('exchanges the token for an HttpOnly, SameSite=Strict cookie, and takes the token out of the address bar', async () => {
    const answer = await get(port, `${url.pathname}${url.search}`);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toBe('/ui/');
    const set = answer.headers['set-cookie']![0]!;
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\/ui/);
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    cookie = cookieOf(answer);
    const page = await get(port, '/ui/', { cookie });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('app.js');
    // No CORS: no other page may read anything.
    expect(Object.keys(page.headers).some((h) => h.startsWith('access-control-'))).toBe(false);
    const preact = await get(port, '/ui/vendor/hooks.js', { cookie });
    expect(preact.status).toBe(200);
    expect(preact.body).toContain('from"./preact.js"');
    // A forged cookie (right name, wrong signature) is refused.
    expect((await get(port, '/ui/', { cookie: cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) })).status).toBe(401);
  });

  it('serves nothing outside ui/, and only GET', async () => {
    for (const path of [
      '/ui/../package.json',
      '/ui/%2e%2e/package.json',
      '/ui/..%2fpackage.json',
      '/ui/%E0%A4%A',
      '/ui/nothing.js',
      '/package.json',
    ]) {
      const answer = await get(port, path, { cookie });
      expect(answer.status, path).toBe(404);
    }
    expect((await get(port, '/ui/', { cookie }, 'POST')).status).toBe(405);
  });

  it('checks Host (DNS rebinding) and Origin on every request', async () => {
    expect((await get(port, '/ui/', { cookie, host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, '/ui/', { cookie, origin: 'http://evil.example' })).status).toBe(403);
    // Another loopback port is the same *site* to a browser (its cookie goes along): refused by Origin.
    expect((await get(port, '/ui/', { cookie, origin: `http://127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(port, '/ui/', { cookie, origin: `http://127.0.0.1:${port}` })).status).toBe(200);
  });

  it("takes the live connection only with the cookie and this page's own Origin", async () => {
    expect(await live(port, { cookie })).toEqual({ status: 403 }); // no Origin: not a page of ours
    expect(await live(port, { cookie, origin: `http://127.0.0.1:${port + 1}` })).toEqual({ status: 403 });
    expect(await live(port, { cookie, origin: `http://127.0.0.1:${port}`, host: `evil.example:${port}` })).toEqual({ status: 403 });
    const opened = await live(port, { cookie, origin: `http://127.0.0.1:${port}` });
    expect('ws' in opened).toBe(true);
    const ws = (opened as { ws: WebSocket }).ws;
    expect((await rpc(ws, 'hello', { protocolVersion: 1, client: 'test' }, 1)).result).toMatchObject({ protocolVersion: 1 });
    const status = (await rpc(ws, 'status', {}, 2)).result as { fronts: { name: string; sessions: number }[] };
    expect(status.fronts.find((f) => f.name === 'ui')).toMatchObject({ sessions: 1 });
    // The config a person is shown has its secrets masked.
    const { config } = (await rpc(ws, 'servers.config', { name: 'fx' }, 3)).result as {
      config: { command: string; env: Record<string, string> };
    };
    expect(config.command).toBe(process.execPath);
    expect(config.env['SECRET_KEY']).toBe('••••••');
    expect(JSON.stringify(config)).not.toContain('sk-live-123');
    ws.close();
  });

  it('comes back on the same port after a daemon restart, and the cookie still holds', async () => {
    await t.restart();
    expect(existsSync(join(t.home, 'ui.json'))).toBe(true);
    const page = await get(port, '/ui/', { cookie });
    expect(page.status).toBe(200);
    // A new token: the old link no longer logs a browser in.
    expect((await get(port, `${url.pathname}${url.search}`)).status).toBe(401);
  });
});

describe('the dashboard on the HTTP gateway', () => {
  it('is served at /ui/ of a loopback gateway, beside /mcp, under the same rules', async () => {
    const gatewayPort = await freePort();
    const t = await startDaemon({ servers: { fx: fixtureEntry() }, gateway: { http: { port: gatewayPort } } });
    try {
      const { url } = await (await t.connect()).request('ui.open', {});
      expect(url.startsWith(`http://127.0.0.1:${gatewayPort}/ui/login?token=`)).toBe(true);
      expect((await get(gatewayPort, '/ui/')).status).toBe(401);
      const login = await get(gatewayPort, new URL(url).pathname + new URL(url).search);
      const cookie = cookieOf(login);
      expect((await get(gatewayPort, '/ui/', { cookie })).status).toBe(200);
      expect((await get(gatewayPort, '/ui/', { cookie, origin: 'http://evil.example' })).status).toBe(403);
      expect('ws' in (await live(gatewayPort, { cookie, origin: `http://127.0.0.1:${gatewayPort}` }))).toBe(true);
      // Only the dashboard takes WebSockets here.
      await expect(
        new Promise((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${gatewayPort}/mcp`, { headers: { cookie } });
          ws.once('unexpected-response', (_req, res) => resolve(res.statusCode));
          ws.once('open', () => reject(new Error('opened')));
        }),
      ).resolves.toBe(404);
      // The MCP endpoint is untouched.
      const mcp = await get(gatewayPort, '/mcp');
      expect(mcp.status).toBe(400);
    } finally {
      await t.stop();
    }
  }, 30_000);
});
