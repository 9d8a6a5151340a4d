/**
 * The control socket as a front: the WebSocket server on MCPD_HOME/mcpd.sock, its JSON-RPC
 * methods over the daemon's ports, and the daemon's events passed on to subscribed clients.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DaemonEvents, Front, Logger, Ports } from '../../ports/index.js';
import { EVENT_NAMES } from '../../protocol/control.js';
import type { FrontStatus } from '../../protocol/types.js';
import { createHandlers, type ControlPorts } from './methods.js';
import { toRpcError } from './params.js';
import { ControlServer } from './server.js';

export class ControlFront implements Front {
  readonly name = 'control';
  private readonly server: ControlServer;
  private readonly unsubscribers: (() => void)[] = [];
  private readonly events: Ports['events'];

  constructor(ports: ControlPorts & Pick<Ports, 'events'>, options: { socketPath: string; log: Logger }) {
    this.events = ports.events;
    this.server = new ControlServer({
      socketPath: options.socketPath,
      handle: createHandlers(ports),
      toError: toRpcError,
      log: (level, text) => options.log[level](text),
    });
  }

  get socketPath(): string {
    return this.server.socketPath;
  }

  async start(): Promise<void> {
    await this.server.listen();
    for (const event of EVENT_NAMES) {
      const forward = ((params: never) => this.server.broadcast(event, params)) as DaemonEvents[typeof event];
      this.unsubscribers.push(this.events.on(event, forward));
    }
  }

  /** A WebSocket upgrade the dashboard vetted, served as a control connection. */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, scope?: { view: string }): void {
    this.server.accept(req, socket, head, scope);
  }

  describe(): FrontStatus {
    return { name: 'control', address: this.server.socketPath, sessions: this.server.connectionCount };
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribers.splice(0)) off();
    await this.server.close();
  }
}
