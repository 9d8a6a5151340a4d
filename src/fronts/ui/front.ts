/**
 * The dashboard as a front. Its page is served on the HTTP gateway when that listens on
 * loopback (at /ui/), else on a loopback port of its own that `mcpd ui` opens and that closes
 * when no page has been open for a while. Either way its live connection is a control
 * connection (the page can do what the control socket can), guarded by guard.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { McpdError, errorMessage } from '../../errors.js';
import type { Front, Logger, UiPort } from '../../ports/index.js';
import type { FrontStatus } from '../../protocol/types.js';
import { UiGuard } from './guard.js';
import { UI_PATH, UiHandler } from './handler.js';
import { SandboxServer } from './sandbox.js';
import { UiServer } from './server.js';

export interface DashboardOptions {
  home: string;
  log: Logger;
  /** Serves a vetted upgrade as a control connection (one App view's only, with `scope`). */
  accept: (req: IncomingMessage, socket: Duplex, head: Buffer, scope?: { view: string }) => void;
  /** Whether an App view of this id is kept (its link opens it without the cookie). */
  hasAppView: (view: string) => boolean;
  /** The loopback HTTP gateway's base URL, when it carries the dashboard. */
  gatewayUrl?: () => string;
  /** Ports of mcpd's other loopback listeners (the gateway), which no App may be let at. */
  ports?: () => number[];
  idleMs?: number;
}

export class DashboardFront implements Front, UiPort {
  readonly name = 'ui';
  readonly handler: UiHandler;
  private readonly guard: UiGuard;
  private own: UiServer | undefined;
  private opening: Promise<UiServer> | undefined;
  private live = 0;
  private closed = false;
  private sandboxServer: Promise<SandboxServer> | undefined;
  /** The own port's number, kept after an idle close: links given out name it. */
  private lastPort = 0;
  /** An App link was given: the own port stays open (links in terminals outlive pages). */
  private pinned = false;

  constructor(private readonly options: DashboardOptions) {
    this.guard = new UiGuard(options.home);
    this.handler = new UiHandler({
      guard: this.guard,
      accept: options.accept,
      hasAppView: options.hasAppView,
      log: (text) => options.log.warn(text),
      onLive: (delta) => {
        this.live = Math.max(0, this.live + delta);
        this.own?.liveChanged(delta);
      },
    });
  }

  /** A dashboard that was open when the previous daemon ended opens again on its port. */
  async start(): Promise<void> {
    if (this.options.gatewayUrl) return;
    const port = await UiServer.previousPort(this.options.home);
    if (port === undefined) return;
    await this.ensureOwn(port).catch((error: unknown) =>
      this.options.log.warn(`dashboard: could not open port ${port} again: ${errorMessage(error)}`),
    );
  }

  /** The URL that logs a browser in (`mcpd ui`), opening the dashboard's own port if needed. */
  async open(): Promise<{ url: string }> {
    if (this.guard.unavailable) throw this.guard.unavailable;
    const base = this.options.gatewayUrl?.() ?? (await this.ensureOwn(0)).url;
    return { url: `${base}${UI_PATH}/login?token=${this.guard.token}` };
  }

  async appLink(view: string): Promise<string> {
    if (this.guard.unavailable) throw this.guard.unavailable;
    this.pinned = true;
    let base = this.options.gatewayUrl?.();
    if (!base) {
      const own = await this.ensureOwn(this.lastPort).catch(() => this.ensureOwn(0));
      own.pin();
      base = own.url;
    }
    return `${base}${UI_PATH}/app/${encodeURIComponent(view)}`;
  }

  async sandbox(csp: Record<string, unknown> | undefined, parent: string): Promise<{ url: string; dropped: string[] }> {
    if (!this.origins().includes(parent))
      throw new McpdError(
        'MCPD_APP_INVALID',
        `Apps are shown by the dashboard only (${this.origins().join(', ') || 'not open'}), not by ${parent}.`,
      );
    const server = await this.ensureSandbox();
    return { url: server.pageUrl(csp, parent), dropped: server.policy(csp).dropped };
  }

  /** The dashboard's origins now: the pages that may frame an App. */
  private origins(): string[] {
    const base = this.options.gatewayUrl?.() ?? this.own?.url;
    return base ? [base] : [];
  }

  private ensureSandbox(): Promise<SandboxServer> {
    this.sandboxServer ??= (async () => {
      const server = new SandboxServer({
        ancestors: () => this.origins(),
        ports: () => [...(this.options.ports?.() ?? []), ...(this.own ? [this.own.port] : []), ...(this.lastPort ? [this.lastPort] : [])],
        log: this.options.log,
      });
      await server.listen();
      if (this.closed) {
        await server.close();
        throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; the App sandbox was not opened.');
      }
      return server;
    })();
    this.sandboxServer.catch(() => (this.sandboxServer = undefined));
    return this.sandboxServer;
  }

  describe(): FrontStatus {
    const base = this.options.gatewayUrl?.() ?? this.own?.url;
    return { name: 'ui', address: base ? `${base}${UI_PATH}/` : '', sessions: this.live };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.own?.close();
    const sandbox = await this.sandboxServer?.catch(() => undefined);
    await sandbox?.close();
  }

  private ensureOwn(port: number): Promise<UiServer> {
    if (this.own) return Promise.resolve(this.own);
    this.opening ??= (async () => {
      const server = new UiServer(this.handler, {
        home: this.options.home,
        log: this.options.log,
        ...(this.options.idleMs ? { idleMs: this.options.idleMs } : {}),
      });
      try {
        await server.listen(port);
      } finally {
        this.opening = undefined;
      }
      if (this.closed) {
        await server.close();
        throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; the dashboard was not opened.');
      }
      server.onIdleClose = () => {
        if (this.own === server) this.own = undefined;
      };
      if (this.pinned) server.pin();
      this.own = server;
      this.lastPort = server.port;
      return server;
    })();
    return this.opening;
  }
}
