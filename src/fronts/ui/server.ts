/**
 * The dashboard's own loopback port, for a daemon without a loopback HTTP gateway. It is opened
 * by `mcpd ui` and closes once no page has been connected for IDLE_MS. Its port is kept in
 * MCPD_HOME/ui.json while it is open, so that a daemon restarting opens the same port again
 * and a page left open reconnects (its cookie still holds: guard.ts).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { McpdError, errorMessage } from '../../errors.js';
import { writeFileAtomicAsync } from '../../util/files.js';
import { limitedServer } from '../http-limits.js';
import { isUiPath, UI_PATH, type UiHandler } from './handler.js';

/** How long the port stays open with no page connected. */
export const UI_IDLE_MS = 10 * 60_000;

export interface UiServerOptions {
  home: string;
  log: { info(text: string): void; warn(text: string): void };
  idleMs?: number;
}

export class UiServer {
  private readonly http: Server;
  private live = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private pinned = false;
  /** Runs once the server closed by itself (idle). */
  onIdleClose: (() => void) | undefined;

  constructor(
    handler: UiHandler,
    private readonly options: UiServerOptions,
  ) {
    this.http = limitedServer(
      { label: 'dashboard', maxConnections: 64, headersTimeoutMs: 10_000, warn: (text) => options.log.warn(text) },
      (req, res) => {
        const path = new URL(req.url ?? '/', 'http://localhost').pathname;
        if (path === '/') return void res.writeHead(303, { Location: `${UI_PATH}/` }).end();
        if (!isUiPath(path)) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: the dashboard is at /ui/\n');
        handler.handle(req, res, this.port).catch((error: unknown) => {
          this.options.log.warn(`dashboard: ${req.method} ${req.url}: ${errorMessage(error)}`);
          if (!res.headersSent) res.writeHead(500).end();
        });
      },
    );
    this.http.on('upgrade', (req, socket, head) => handler.upgrade(req, socket, head, this.port));
  }

  static stateFile(home: string): string {
    return join(home, 'ui.json');
  }

  /** The port a previous daemon's dashboard had open, if one was open when it ended. */
  static async previousPort(home: string): Promise<number | undefined> {
    try {
      const { port } = JSON.parse(await readFile(UiServer.stateFile(home), 'utf8')) as { port?: unknown };
      return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
    } catch {
      return undefined;
    }
  }

  get port(): number {
    return (this.http.address() as AddressInfo | null)?.port ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.live;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) =>
        reject(
          new McpdError('MCPD_UI_LISTEN_FAILED', `The dashboard cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }),
        );
      this.http.once('error', failed);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', failed);
        this.http.on('error', (error) => this.options.log.warn(`dashboard: ${error.message}`));
        resolve();
      });
    });
    // Remembered so that a restarted daemon opens the same port again; only a convenience.
    await writeFileAtomicAsync(UiServer.stateFile(this.options.home), `${JSON.stringify({ port: this.port })}\n`).catch((error: unknown) =>
      this.options.log.warn(`dashboard: ${errorMessage(error)} (a restarted daemon will not reopen this port)`),
    );
    this.options.log.info(
      `dashboard at ${this.url}${UI_PATH}/ (closes after ${Math.round((this.options.idleMs ?? UI_IDLE_MS) / 60_000)} min with no page open)`,
    );
    this.armIdle();
  }

  /** Stays open from now on (App links were given out that name this port). */
  pin(): void {
    this.pinned = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** A page connected (+1) or went away (-1). */
  liveChanged(delta: 1 | -1): void {
    this.live = Math.max(0, this.live + delta);
    if (this.live > 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    } else this.armIdle();
  }

  /** The daemon stops: the port closes, and ui.json stays so the next daemon opens it again. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.idleTimer);
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
    })();
    return this.closing;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.pinned) return;
    this.idleTimer = setTimeout(() => {
      if (this.live > 0 || this.closing) return;
      this.options.log.info('dashboard: no page open; its port closes');
      void rm(UiServer.stateFile(this.options.home), { force: true })
        .then(() => this.close())
        .then(() => this.onIdleClose?.());
    }, this.options.idleMs ?? UI_IDLE_MS);
    this.idleTimer.unref();
  }
}
