/**
 * The dashboard over HTTP: its page and files, the login that turns the URL's token into a
 * cookie, and its live connection, a WebSocket at /ui/ws that speaks the control protocol
 * (docs/control-protocol.md) once the cookie, Host and Origin checked out. Mounted on the HTTP
 * gateway when that listens on loopback, else on the daemon's own loopback port (UiServer).
 * No CORS headers, ever: no other page may read anything from here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpMount } from '../../ports/index.js';
import { refuseUpgrade } from '../unix-socket.js';
import { UiAssets } from './assets.js';
import type { UiGuard } from './guard.js';

export const UI_PATH = '/ui';

export interface UiHandlerOptions {
  guard: UiGuard;
  /** Serves a vetted upgrade as a control connection (one App view's only, with `scope`). */
  accept: (req: IncomingMessage, socket: Duplex, head: Buffer, scope?: { view: string }) => void;
  /** Whether an App view of this id is kept: its link is its own key (/ui/app/ID, no cookie needed). */
  hasAppView: (view: string) => boolean;
  log: (text: string) => void;
  /** A live connection opened or closed (the own port closes when none is left for a while). */
  onLive?: (delta: 1 | -1) => void;
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    // frame-src: the App sandbox, a loopback port of its own (sandbox.ts); nothing else is framed.
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: blob:; media-src 'self' data: blob:; frame-src http://localhost:* http://127.0.0.1:*; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

const EXPIRED_APP = 'This App view has expired: views last a day, and not past a daemon restart. Call the tool again for a fresh link.';

const STALE_LINK = 'This dashboard link is not valid (the daemon restarted, or the link was mistyped). Run `mcpd ui` for a fresh one.';

export function isUiPath(pathname: string): boolean {
  return pathname === UI_PATH || pathname.startsWith(`${UI_PATH}/`);
}

export class UiHandler implements HttpMount {
  private readonly assets = new UiAssets();

  constructor(private readonly options: UiHandlerOptions) {}

  owns(pathname: string): boolean {
    return isUiPath(pathname);
  }

  /** Answers one HTTP request under /ui; `port` is the listener's (Host and Origin must name it). */
  async handle(req: IncomingMessage, res: ServerResponse, port: number): Promise<void> {
    const { guard } = this.options;
    const refused = guard.refusal(req, port, false);
    if (refused) return this.text(res, 403, `Forbidden: ${refused}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.text(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === UI_PATH) return this.redirect(res, `${UI_PATH}/`);
    if (url.pathname === `${UI_PATH}/login`) {
      if (!guard.checkToken(url.searchParams.get('token'))) return this.page(res, 401, STALE_LINK);
      // The token leaves the address bar at once; the cookie is what the page goes on with.
      return this.redirect(res, `${UI_PATH}/`, { 'Set-Cookie': guard.issueCookie(port) });
    }
    // An App view's link is a key to that view alone: its page loads without the cookie.
    const appView = /^\/ui\/app\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname)?.[1];
    const signedIn = guard.hasCookie(req, port);
    if (appView !== undefined) {
      if (!signedIn && !this.options.hasAppView(appView)) return this.page(res, 404, EXPIRED_APP);
      const page = await this.assets.get('app.html');
      if (!page) return this.text(res, 404, 'Not found');
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': page.type,
        'Content-Length': page.body.length,
        ...(signedIn ? {} : { 'Set-Cookie': guard.issueViewCookie(port, appView) }),
      });
      return void res.end(req.method === 'HEAD' ? undefined : page.body);
    }
    // A view link's browser loads the page's files (code and style, no data), nothing else.
    const viewFile = /^\/ui\/(?:[a-z-]+\.(?:js|css|svg)|vendor\/[a-z-]+\.js)$/.test(url.pathname);
    if (!signedIn && !(viewFile && guard.hasViewCookie(req, port))) return this.page(res, 401, STALE_LINK);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice(UI_PATH.length + 1));
    } catch {
      return this.text(res, 404, 'Not found');
    }
    const asset = await this.assets.get(path);
    if (!asset) return this.text(res, 404, 'Not found');
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  /** The live connection: only /ui/ws, only with the cookie, and only from this dashboard's own page. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, port: number): void {
    const { guard } = this.options;
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== `${UI_PATH}/ws`) return refuseUpgrade(socket, 404, 'Not found');
    const refused = guard.refusal(req, port, true);
    if (refused) {
      this.options.log(`dashboard: refused a live connection: ${refused}`);
      return refuseUpgrade(socket, 403, `Forbidden: ${refused}`);
    }
    // Without the cookie, only an App view's own connection: `?app=ID` of a view that is kept.
    const app = new URL(req.url ?? '/', 'http://localhost').searchParams.get('app');
    const signedIn = guard.hasCookie(req, port);
    if (!signedIn && (app === null || !this.options.hasAppView(app)))
      return refuseUpgrade(socket, 401, 'Unauthorized: open the dashboard with mcpd ui');
    this.options.onLive?.(1);
    socket.once('close', () => this.options.onLive?.(-1));
    this.options.accept(req, socket, head, signedIn ? undefined : { view: app! });
  }

  private redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
    res.writeHead(303, { ...SECURITY_HEADERS, Location: location, ...headers }).end();
  }

  private text(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
  }

  /** A refusal a person reads in the browser. */
  private page(res: ServerResponse, status: number, text: string): void {
    const body = `<!doctype html><meta charset="utf-8"><title>mcpd</title><body><h1>mcpd</h1><p>${text.replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`;
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(body);
  }
}
