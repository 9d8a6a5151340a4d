/**
 * The dashboard's own port: it closes once no page has been connected for the idle time (and
 * forgets its port, so the next daemon does not open it again), and stays open while one is.
 * The guard's cookie: signed with the home's key, so it survives a new guard (a daemon restart)
 * on the same home and fails on another.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { UiGuard } from '../../src/fronts/ui/guard.js';
import { UiHandler } from '../../src/fronts/ui/handler.js';
import { UiServer } from '../../src/fronts/ui/server.js';
import { tempDir, waitFor } from '../support/fixtures.js';

const quiet = { info: () => undefined, warn: () => undefined };
const dirs: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.cleanup();
});

function home(): string {
  const dir = tempDir('mcpd-ui-');
  dirs.push(dir);
  return dir.path;
}

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('UiServer', () => {
  it('closes after the idle time with no page, and forgets its port', async () => {
    const h = home();
    const handler = new UiHandler({ guard: new UiGuard(h), accept: () => undefined, hasAppView: () => false, log: () => undefined });
    const server = new UiServer(handler, { home: h, log: quiet, idleMs: 200 });
    let closed = false;
    server.onIdleClose = () => (closed = true);
    await server.listen(0);
    expect(await UiServer.previousPort(h)).toBe(server.port);
    await waitFor(() => closed, 5_000, 'the idle close');
    expect(existsSync(UiServer.stateFile(h))).toBe(false);
  });

  it('stays open while a page is connected, and counts down again once it leaves', async () => {
    const h = home();
    const handler = new UiHandler({ guard: new UiGuard(h), accept: () => undefined, hasAppView: () => false, log: () => undefined });
    const server = new UiServer(handler, { home: h, log: quiet, idleMs: 150 });
    let closed = false;
    server.onIdleClose = () => (closed = true);
    await server.listen(0);
    server.liveChanged(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(closed).toBe(false);
    server.liveChanged(-1);
    await waitFor(() => closed, 5_000, 'the idle close after the page left');
  });

  it('keeps its port in ui.json when the daemon stops (the next daemon opens it again)', async () => {
    const h = home();
    const handler = new UiHandler({ guard: new UiGuard(h), accept: () => undefined, hasAppView: () => false, log: () => undefined });
    const server = new UiServer(handler, { home: h, log: quiet });
    await server.listen(0);
    const port = server.port;
    await server.close();
    expect(await UiServer.previousPort(h)).toBe(port);
  });
});

describe('UiGuard', () => {
  it('accepts its own cookie, also from a new guard on the same home, and nothing else', () => {
    const h = home();
    const guard = new UiGuard(h);
    const cookie = guard.issueCookie(4000).split(';')[0]!;
    expect(guard.hasCookie(request({ cookie }), 4000)).toBe(true);
    expect(new UiGuard(h).hasCookie(request({ cookie: `other=1; ${cookie}` }), 4000)).toBe(true);
    // Another port's name, another home's key, a tampered value.
    expect(guard.hasCookie(request({ cookie }), 4001)).toBe(false);
    expect(new UiGuard(home()).hasCookie(request({ cookie }), 4000)).toBe(false);
    expect(guard.hasCookie(request({ cookie: cookie.replace('.', 'x.') }), 4000)).toBe(false);
    expect(guard.hasCookie(request({}), 4000)).toBe(false);
    // A new start, a new token: the old one no longer logs in.
    expect(new UiGuard(h).checkToken(guard.token)).toBe(false);
    expect(guard.checkToken(guard.token)).toBe(true);
    expect(guard.checkToken(`${guard.token}x`)).toBe(false);
  });

  it('wants this listener in Host, and its origin in Origin', () => {
    const guard = new UiGuard(home());
    expect(guard.refusal(request({ host: '127.0.0.1:4000' }), 4000, false)).toBeNull();
    expect(guard.refusal(request({ host: 'localhost:4000', origin: 'http://localhost:4000' }), 4000, true)).toBeNull();
    expect(guard.refusal(request({ host: '127.0.0.1:4000' }), 4000, true)).toMatch(/no Origin/);
    expect(guard.refusal(request({ host: 'attacker.example:4000' }), 4000, false)).toMatch(/DNS rebinding/);
    expect(guard.refusal(request({ host: '127.0.0.1:4000', origin: 'http://localhost:4000' }), 4000, false)).toMatch(/may not use/);
    expect(guard.refusal(request({ host: '127.0.0.1:4000', origin: 'null' }), 4000, false)).toMatch(/may not use/);
  });
});
