/**
 * Signing in to an OAuth-protected remote server, against a real authorization server and
 * protected MCP server on loopback (test/fixtures/oauth-server.mjs, built on the SDK's server
 * auth): discovery, dynamic registration, PKCE, the redirect to the daemon's loopback callback,
 * the `resource` parameter, tokens kept 0600 and never shown, refresh on expiry, a revoked
 * token, step-up to a wider scope, sign-out, and a daemon restart.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/client/control-client.js';
import type { ServerStatus } from '../../src/protocol/types.js';
import { CLI, FAST_RESTART, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let fixture: ResultPromise;
let shortLived: ResultPromise;
let base: string;
let shortBase: string;
let t: TestDaemon;
let client: ControlClient;

const status = (): ServerStatus => t.daemon.status().servers.find((s) => s.name === 'secure')!;
const settled = (state: ServerStatus['state']) =>
  waitFor(() => status().state === state || undefined, 10_000, `secure to be ${state}: ${JSON.stringify(status())}`);
const control = (path: string, method = 'POST') =>
  fetch(`${base}${path}`, { method }).then((r) => r.json() as Promise<Record<string, unknown>>);

/** What a person's browser does: open the authorization URL, follow the redirect to the callback. */
async function browse(authorizationUrl: string): Promise<string> {
  const authorize = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(authorize.status).toBe(302);
  const callback = await fetch(authorize.headers.get('location')!);
  return callback.text();
}

async function signIn(server = 'secure'): Promise<{ authorizationUrl: string; page: string }> {
  const started = await client.request('auth.login', { server });
  expect(started.authorizationUrl).toBeDefined();
  const waiting = client.request('auth.wait', { server }, { timeoutMs: 30_000 });
  const page = await browse(started.authorizationUrl!);
  await waiting;
  return { authorizationUrl: started.authorizationUrl!, page };
}

async function oauthFixture(env: Record<string, string> = {}): Promise<[ResultPromise, string]> {
  const child = execa(process.execPath, [join(ROOT, 'test/fixtures/oauth-server.mjs')], { env, reject: false, buffer: false });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
  return [child, `http://127.0.0.1:${port}`];
}

beforeAll(async () => {
  [fixture, base] = await oauthFixture();
  // Tokens that live 2 s: refreshed halfway through their life (a minute early for longer ones).
  [shortLived, shortBase] = await oauthFixture({ FIXTURE_TOKEN_TTL_S: '2' });
  const entry = (url: string) => ({ url, timeouts: { startupMs: 20_000, pingIntervalMs: 60_000 }, restart: FAST_RESTART });
  t = await startDaemon({ servers: { secure: entry(`${base}/mcp`), short: entry(`${shortBase}/mcp`) } });
  client = await t.connect();
}, 30_000);

afterAll(async () => {
  client?.close();
  await t?.stop();
  fixture?.kill('SIGTERM');
  shortLived?.kill('SIGTERM');
});

describe('OAuth sign-in to a remote server', () => {
  it('before: needs-auth, and auth.list says so', async () => {
    await settled('needs-auth');
    expect(status().lastError!.message).toContain('Sign in with: mcpd auth secure');
    expect((await client.request('auth.list', {})).servers).toContainEqual(
      expect.objectContaining({ server: 'secure', state: 'needs-sign-in', pending: false }),
    );
  });

  it('signs in: discovery, registration, PKCE, the redirect, the resource; tokens kept 0600 and never shown', async () => {
    const { authorizationUrl, page } = await signIn();
    const url = new URL(authorizationUrl);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(`${base}/mcp`);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(page).toContain('Signed in to secure');
    await settled('running');
    expect(await client.request('tools.call', { name: 'secure__echo', arguments: { message: 'authorized' } })).toEqual({
      content: [{ type: 'text', text: 'authorized' }],
    });
    const stats = await control('/test/stats', 'GET');
    expect(stats).toMatchObject({ registrations: 1, codeExchanges: 1, resources: [`${base}/mcp`] });
    const file = join(t.home, 'auth', 'secure.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.home, 'auth')).mode & 0o777).toBe(0o700);
    const { readFileSync } = await import('node:fs');
    const token = (JSON.parse(readFileSync(file, 'utf8')) as { tokens: { access_token: string; refresh_token: string } }).tokens;
    const shown = JSON.stringify([
      await client.request('status', {}),
      await client.request('auth.list', {}),
      t.daemon.logs.read(undefined, 5_000),
    ]);
    expect(shown).not.toContain(token.access_token);
    expect(shown).not.toContain(token.refresh_token);
    expect((await client.request('auth.list', {})).servers.find((s) => s.server === 'secure')).toMatchObject({
      state: 'signed-in',
      scope: 'mcp:tools',
      expiresAt: expect.any(String),
    });
  });

  it('an expired access token is refreshed on the 401, and the call goes through', async () => {
    await control('/test/expire');
    expect(await client.request('tools.call', { name: 'secure__echo', arguments: { message: 'after expiry' } })).toEqual({
      content: [{ type: 'text', text: 'after expiry' }],
    });
    expect((await control('/test/stats', 'GET'))['refreshes']).toBe(1);
  });

  it('a token about to expire is refreshed before it does', async () => {
    await signIn('short');
    await waitFor(
      () =>
        t.daemon.logs.read('short', 100).some((e) => e.text.includes('refreshed the OAuth access token before it expired')) || undefined,
      10_000,
      'the early refresh',
    );
    const stats = await fetch(`${shortBase}/test/stats`).then((r) => r.json() as Promise<{ refreshes: number }>);
    expect(stats.refreshes).toBeGreaterThanOrEqual(1);
    expect(await client.request('tools.call', { name: 'short__echo', arguments: { message: 'fresh' } })).toEqual({
      content: [{ type: 'text', text: 'fresh' }],
    });
  });

  it('the sign-in survives a daemon restart', async () => {
    client.close();
    await t.restart();
    client = await t.connect();
    await settled('running');
    expect(await client.request('tools.call', { name: 'secure__echo', arguments: { message: 'again' } })).toEqual({
      content: [{ type: 'text', text: 'again' }],
    });
  });

  it('a revoked sign-in: the call fails saying to sign in, the server waits in needs-auth', async () => {
    await control('/test/revoke');
    await expect(client.request('tools.call', { name: 'secure__echo', arguments: { message: 'x' } })).rejects.toThrow(
      /needs authorization.*mcpd auth secure/,
    );
    await settled('needs-auth');
    await signIn();
    await settled('running');
  });

  it('step-up: a 403 insufficient_scope asks for a sign-in with the wider scope', async () => {
    await control('/test/require?scope=mcp:tools%20mcp:admin');
    // The token the fixture gave covers both already (it grants scopes_supported); narrow it first.
    await control('/test/require?scope=mcp:special');
    await expect(client.request('tools.call', { name: 'secure__echo', arguments: { message: 'x' } })).rejects.toThrow(
      /needs authorization: its sign-in must cover more \(scope mcp:tools mcp:special\)/,
    );
    await settled('needs-auth');
    // What was granted and what the server asks for now, both: a narrower token would fail elsewhere.
    const { authorizationUrl } = await signIn();
    expect(new URL(authorizationUrl).searchParams.get('scope')).toBe('mcp:tools mcp:special');
    await settled('running');
    expect(await client.request('tools.call', { name: 'secure__whoami', arguments: {} })).toMatchObject({
      content: [{ text: expect.stringContaining('scopes mcp:tools,mcp:special') }],
    });
    await control('/test/require?scope=mcp:tools');
  });

  it('sign-out forgets the tokens and the server waits for a sign-in again', async () => {
    const { server } = await client.request('auth.logout', { server: 'secure' });
    expect(server.state).toBe('needs-auth');
    // No token is left; what may come back is only the scope the server's next 401 asks for.
    const { existsSync, readFileSync } = await import('node:fs');
    const file = join(t.home, 'auth', 'secure.json');
    const left = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    expect(Object.keys(left).filter((key) => key !== 'wantedScope' && key !== 'url' && key !== 'server')).toEqual([]);
  });

  it('mcpd auth NAME on the command line: prints the URL, waits, and says when signed in', async () => {
    const cli = execa(process.execPath, [CLI, 'auth', 'secure', '--no-browser', '--home', t.home], {
      reject: false,
      buffer: true,
      stdin: 'ignore',
      timeout: 30_000,
    });
    const url = await new Promise<string>((resolve) => cli.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/authorize\?/);
    await browse(url);
    const result = await cli;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Signed in to secure. secure: running');
    const list = await execa(process.execPath, [CLI, 'auth', '--home', t.home], { reject: false });
    expect(list.stdout).toMatch(/secure\s+signed in, expires/);
  });
});
