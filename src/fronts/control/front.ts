/**
 * The control socket as a front: the WebSocket server on MCPD_HOME/mcpd.sock, its JSON-RPC
 * handlers over the daemon host, and the daemon's events passed on to subscribed clients.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../logs/store.js';
import type { FrontStatus } from '../../protocol/types.js';
import type { DaemonHost, Front, HostEvents } from '../host.js';
import { createHandlers, toRpcError } from './handlers.js';
import { ControlServer } from './server.js';

const FORWARDED: (keyof HostEvents)[] = [
  'server:state',
  'catalogue:changed',
  'log:line',
  'config:reloaded',
  'daemon:stopping',
  'client:connected',
  'client:disconnected',
];

export class ControlFront implements Front {
  readonly name = 'control';
  private readonly server: ControlServer;
  private readonly unsubscribers: (() => void)[] = [];

  constructor(
    private readonly host: DaemonHost,
    options: { socketPath: string; log: Logger },
  ) {
    this.server = new ControlServer({
      socketPath: options.socketPath,
      handle: createHandlers(host),
      toError: toRpcError,
      log: (level, text) => options.log[level](text),
    });
  }

  get socketPath(): string {
    return this.server.socketPath;
  }

  async start(): Promise<void> {
    await this.server.listen();
    for (const event of FORWARDED) {
      this.unsubscribers.push(this.host.on(event, ((params: never) => this.server.broadcast(event, params)) as HostEvents[typeof event]));
    }
  }

  /** A WebSocket upgrade the dashboard vetted, served as a control connection. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.server.accept(req, socket, head);
  }

  describe(): FrontStatus {
    return { name: 'control', address: this.server.socketPath, sessions: this.server.connectionCount };
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribers.splice(0)) off();
    await this.server.close();
  }
}
