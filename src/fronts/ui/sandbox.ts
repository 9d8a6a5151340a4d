/**
 * The sandbox Apps run in: the outer frame of the MCP Apps double-iframe sandbox, on an origin
 * of its own (`localhost` at a loopback port of its own, while the dashboard is 127.0.0.1 at
 * another), so an App can reach neither the dashboard's cookie nor its live connection. It
 * serves two files: the proxy page, whose Content-Security-Policy header is the App's declared
 * CSP (checked here), and the proxy's script (ui/sandbox.js), which writes the App into an
 * inner frame and relays messages between it and the dashboard.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { McpdError, errorMessage } from '../../errors.js';
import { PACKAGE_ROOT } from '../../version.js';
import { limitedServer } from '../http-limits.js';

/** What a ui:// resource's `_meta.ui.csp` may declare (SEP-1865). */
export interface AppCsp {
  connectDomains?: unknown;
  resourceDomains?: unknown;
  frameDomains?: unknown;
  baseUriDomains?: unknown;
}

const LOOPBACK = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(localhost|127(?:\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(?::(\d+|\*))?(?:\/.*)?$/i;

/**
 * A declared source, kept unless it is malformed (it could break out of its directive) or would
 * open the sandbox to mcpd itself: a wildcard, a bare scheme, or a loopback name at one of
 * mcpd's ports (or at any port).
 */
function allowed(source: string, ports: readonly number[]): boolean {
  if (source === '' || /[;,'"\s]/.test(source)) return false;
  if (source === '*' || /^[a-z][a-z0-9+.-]*:$/i.test(source) || /^[a-z][a-z0-9+.-]*:\/\/\*$/i.test(source)) return false;
  const loopback = LOOPBACK.exec(source);
  if (!loopback) return true;
  const port = loopback[2];
  return port !== undefined && port !== '*' && !ports.includes(Number(port));
}

export interface SandboxPolicy {
  /** The Content-Security-Policy header of the proxy page (the inner frame inherits it). */
  header: string;
  /** Declared sources left out, for the page to say so. */
  dropped: string[];
}

/**
 * The App's CSP as mcpd applies it: the spec's restrictive default where it declares nothing,
 * its declared domains where it does (less what would open mcpd), and framing by the dashboard only.
 */
export function sandboxPolicy(csp: AppCsp | undefined, ports: readonly number[], ancestors: readonly string[]): SandboxPolicy {
  const dropped: string[] = [];
  const list = (value: unknown): string[] => {
    if (!Array.isArray(value)) return [];
    const kept: string[] = [];
    for (const item of value) {
      if (typeof item === 'string' && allowed(item.trim(), ports)) kept.push(item.trim());
      else dropped.push(String(item));
    }
    return kept;
  };
  const resources = list(csp?.resourceDomains).join(' ');
  const connect = list(csp?.connectDomains).join(' ');
  const frames = list(csp?.frameDomains).join(' ');
  const base = list(csp?.baseUriDomains).join(' ');
  const withSources = (directive: string, fixed: string, extra: string) => `${directive} ${fixed}${extra ? ` ${extra}` : ''}`;
  const header = [
    "default-src 'none'",
    // 'self' is this sandbox's own origin, which serves nothing but the proxy's two files.
    withSources('script-src', "'self' 'unsafe-inline' 'unsafe-eval' blob: data:", resources),
    withSources('style-src', "'self' 'unsafe-inline' blob: data:", resources),
    withSources('img-src', "'self' data: blob:", resources),
    withSources('font-src', "'self' data: blob:", resources),
    withSources('media-src', "'self' data: blob:", resources),
    withSources('worker-src', "'self' blob:", resources),
    connect ? `connect-src ${connect}` : "connect-src 'none'",
    frames ? `frame-src ${frames}` : "frame-src 'none'",
    "object-src 'none'",
    base ? `base-uri ${base}` : "base-uri 'none'",
    `frame-ancestors ${ancestors.join(' ') || "'none'"}`,
  ].join('; ');
  return { header, dropped };
}

export interface SandboxServerOptions {
  /** The dashboard's origins (http://127.0.0.1:PORT): only they may frame the sandbox. */
  ancestors: () => string[];
  /** mcpd's own loopback ports (dashboard, gateway): no App's CSP may name them. */
  ports: () => number[];
  log: { warn(text: string): void };
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>mcpd App sandbox</title>
<style>html,body{margin:0;height:100%;overflow:hidden}</style></head>
<body><script type="module" src="/sandbox.js"></script></body></html>
`;

export class SandboxServer {
  private readonly http: Server;
  private script: Promise<Buffer> | undefined;

  constructor(private readonly options: SandboxServerOptions) {
    this.http = limitedServer(
      { label: 'App sandbox', maxConnections: 64, headersTimeoutMs: 10_000, warn: (text) => options.log.warn(text) },
      (req, res) => void this.handle(req, res),
    );
    this.http.on('upgrade', (_req, socket) => socket.destroy());
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? 0;
  }

  /** The origin Apps run on: another host name than the dashboard's (`parent`), so another site too. */
  origin(parent: string): string {
    const host = new URL(parent).hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    return `http://${host}:${this.port}`;
  }

  /** The proxy page for an App of this CSP, framed by the dashboard page at `parent`. */
  pageUrl(csp: AppCsp | undefined, parent: string): string {
    const params = new URLSearchParams({ parent });
    if (csp !== undefined) params.set('csp', Buffer.from(JSON.stringify(csp)).toString('base64url'));
    return `${this.origin(parent)}/sandbox.html?${params.toString()}`;
  }

  policy(csp: AppCsp | undefined): SandboxPolicy {
    return sandboxPolicy(csp, [...this.options.ports(), this.port], this.options.ancestors());
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) =>
        reject(new McpdError('MCPD_UI_LISTEN_FAILED', `The App sandbox cannot listen on 127.0.0.1: ${error.message}`, { cause: error }));
      this.http.once('error', failed);
      this.http.listen(0, '127.0.0.1', () => {
        this.http.off('error', failed);
        this.http.on('error', (error) => this.options.log.warn(`App sandbox: ${error.message}`));
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const base = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };
    const text = (status: number, body: string) =>
      void res.writeHead(status, { ...base, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${body}\n`);
    // Its own names only (DNS rebinding); no page may call it but by framing it.
    const host = (req.headers.host ?? '').toLowerCase();
    if (host !== `localhost:${this.port}` && host !== `127.0.0.1:${this.port}`) return text(403, 'Forbidden: not this sandbox');
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Method not allowed');
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/sandbox.js') {
        this.script ??= readFile(join(PACKAGE_ROOT, 'ui', 'sandbox.js'));
        const body = await this.script;
        return void res.writeHead(200, { ...base, 'Content-Type': 'text/javascript; charset=utf-8' }).end(body);
      }
      if (url.pathname !== '/sandbox.html') return text(404, 'Not found');
      const parent = url.searchParams.get('parent') ?? '';
      if (!this.options.ancestors().includes(parent)) return text(403, 'Forbidden: Apps run in the dashboard only');
      let csp: AppCsp | undefined;
      const declared = url.searchParams.get('csp');
      if (declared !== null) {
        try {
          csp = JSON.parse(Buffer.from(declared, 'base64url').toString('utf8')) as AppCsp;
        } catch {
          return text(400, 'Bad request: csp is not base64url JSON');
        }
      }
      res.writeHead(200, { ...base, 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': this.policy(csp).header });
      res.end(req.method === 'HEAD' ? undefined : PAGE);
    } catch (error) {
      this.options.log.warn(`App sandbox: ${req.url}: ${errorMessage(error)}`);
      if (!res.headersSent) text(500, 'Internal error');
    }
  }
}
