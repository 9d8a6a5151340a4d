/**
 * The daemon's end of the control socket: a WebSocket server on a Unix domain socket
 * (MCPD_HOME/mcpd.sock, 0600; the folder is 0700, so file permissions are the authentication).
 * Refuses any request with an Origin header (no browser page can drive the daemon) and any
 * non-loopback Host; limits message size, connections and unread output.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { DOORS, refusal, refusalText } from '../door.js';
import { limitedServer } from '../http-limits.js';
import { SlowReaders, type Reader } from '../slow-readers.js';
import { closeSocket, listenOnSocket, refuseUpgrade } from '../unix-socket.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { McpdError } from '../../errors.js';
import { JsonRpcPeer, type RequestContext, type RpcErrorObject } from '../../protocol/jsonrpc.js';
import {
  EVENT_NAMES,
  HANDSHAKE_TIMEOUT_MS,
  HELLO_TIMEOUT_MS,
  IDLE_TIMEOUT_MS,
  JSONRPC_ERRORS,
  MAX_BUFFERED_BYTES,
  MIN_DRAIN_BYTES,
  SOFT_BUFFERED_BYTES,
  STALL_MS,
  MAX_CONNECTIONS,
  MAX_INCOMING_MESSAGE_BYTES,
  MAX_REQUESTS_IN_FLIGHT,
  MAX_TOTAL_BUFFERED_BYTES,
  type EventName,
  type Events,
} from '../../protocol/control.js';

export interface ControlConnection {
  readonly id: number;
  /** Set for a connection an App view's own link opened: it may use that view's methods only. */
  readonly scope: { view: string } | undefined;
  readonly subscriptions: Set<EventName>;
  /** Sends one event to this connection, subscribed or not. */
  notify<E extends EventName>(event: E, params: Events[E]): void;
  /** Runs when the connection closes (at once, if it already has). */
  onClose(listener: () => void): void;
  /** The connection watches something (a chat session): it is not idle while it lives. */
  hold(): void;
  /** A request to the client (the daemon asks, the client answers). */
  request(method: string, params: unknown, options: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>;
}

export type RequestHandler = (method: string, params: unknown, context: RequestContext, connection: ControlConnection) => Promise<unknown>;

export interface ControlServerOptions {
  socketPath: string;
  handle: RequestHandler;
  toError: (error: unknown) => RpcErrorObject;
  log: (level: 'info' | 'warn', text: string) => void;
  /** Limits (defaults from protocol.ts); tests make them small. */
  limits?: Partial<ControlLimits>;
}

export interface ControlLimits {
  maxConnections: number;
  maxBufferedBytes: number;
  softBufferedBytes: number;
  stallMs: number;
  minDrainBytes: number;
  maxTotalBufferedBytes: number;
  handshakeTimeoutMs: number;
  helloTimeoutMs: number;
  idleTimeoutMs: number;
  maxRequestsInFlight: number;
}

const DEFAULT_LIMITS: ControlLimits = {
  maxConnections: MAX_CONNECTIONS,
  maxBufferedBytes: MAX_BUFFERED_BYTES,
  softBufferedBytes: SOFT_BUFFERED_BYTES,
  stallMs: STALL_MS,
  minDrainBytes: MIN_DRAIN_BYTES,
  maxTotalBufferedBytes: MAX_TOTAL_BUFFERED_BYTES,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  helloTimeoutMs: HELLO_TIMEOUT_MS,
  idleTimeoutMs: IDLE_TIMEOUT_MS,
  maxRequestsInFlight: MAX_REQUESTS_IN_FLIGHT,
};

interface Client extends ControlConnection, Reader {
  ws: WebSocket;
  /** The connection's socket: corked for the rest of a tick once something is sent. */
  socket: Socket;
  corked: boolean;
  /** Ends the tick's cork (made once per connection, not per send). */
  uncork: () => void;
  peer: JsonRpcPeer;
  greeted: boolean;
  held: boolean;
  /** When it last had something going on (a request, an answer, an event). */
  lastActive: number;
  timer: NodeJS.Timeout | undefined;
  closeListeners: (() => void)[];
}

export class ControlServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  /** Accepted sockets not yet upgraded, each with its handshake deadline. */
  private readonly handshaking = new Map<Duplex, NodeJS.Timeout>();
  private readonly limits: ControlLimits;
  private readonly readers: SlowReaders<Client>;
  private nextId = 1;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ControlServerOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.readers = new SlowReaders<Client>(
      this.limits,
      () => this.clients,
      (client, why) => {
        this.options.log('warn', `dropped control connection ${client.id}: ${why}`);
        client.ws.terminate();
        this.forget(client);
      },
    );
    // Connections (upgraded or not) are capped well below a desktop's fd limit, apart from the
    // other fronts', so that nothing can starve the control socket.
    this.http = limitedServer(
      {
        label: 'control socket',
        maxConnections: this.limits.maxConnections * 2,
        headersTimeoutMs: this.limits.handshakeTimeoutMs,
        warn: (text) => this.options.log('warn', text),
      },
      (_req, res) => {
        res
          .writeHead(426, { 'Content-Type': 'text/plain' })
          .end('mcpd control socket: connect with a WebSocket (see docs/control-protocol.md)\n');
      },
    );
    this.http.headersTimeout = this.limits.handshakeTimeoutMs;
    this.http.requestTimeout = this.limits.handshakeTimeoutMs;
    // Half-open connections (accepted, never upgraded) are cut at the handshake deadline.
    this.http.on('connection', (socket: Duplex) => {
      const timer = setTimeout(() => {
        this.handshaking.delete(socket);
        socket.destroy();
      }, this.limits.handshakeTimeoutMs);
      this.handshaking.set(socket, timer);
      socket.once('close', () => {
        clearTimeout(timer);
        this.handshaking.delete(socket);
      });
    });
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_INCOMING_MESSAGE_BYTES,
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await listenOnSocket(this.http, this.options.socketPath);
  }

  get socketPath(): string {
    return this.options.socketPath;
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  /** Sends an event to every client subscribed to it. */
  broadcast<E extends EventName>(event: E, params: Events[E]): void {
    for (const client of this.clients) {
      if (client.subscriptions.has(event)) client.notify(event, params);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const timer of this.handshaking.values()) clearTimeout(timer);
      for (const socket of this.handshaking.keys()) socket.destroy();
      this.handshaking.clear();
      for (const client of this.clients) client.ws.close(1001, 'daemon stopping');
      // Clients get a second to close politely, then are cut off.
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          clearInterval(check);
          resolve();
        };
        const timer = setTimeout(() => {
          for (const client of this.clients) client.ws.terminate();
          done();
        }, 1_000);
        const check = setInterval(() => {
          if (this.clients.size === 0) done();
        }, 10);
      });
      this.wss.close();
      await closeSocket(this.http, this.options.socketPath);
    })();
    return this.closing;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refused = refusal(req.headers, DOORS.control);
    if (refused) {
      refuseUpgrade(socket, refused.status, refusalText(refused));
      if (req.headers.origin !== undefined) this.options.log('warn', `refused a control connection with Origin ${req.headers.origin}`);
      return;
    }
    this.accept(req, socket, head);
  }

  /**
   * Takes a WebSocket upgrade that another front already vetted (the dashboard's, over loopback
   * TCP behind its cookie and Origin checks): the same handlers, limits and events as the socket.
   */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, scope?: { view: string }): void {
    if (this.closing) {
      refuseUpgrade(socket, 503, 'Daemon stopping');
      return;
    }
    if (this.clients.size >= this.limits.maxConnections && !this.evictIdle()) {
      refuseUpgrade(socket, 503, `Too many connections (limit ${this.limits.maxConnections}), none of them idle`);
      return;
    }
    const timer = this.handshaking.get(socket);
    clearTimeout(timer);
    this.handshaking.delete(socket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, socket as Socket, scope));
  }

  /** Closes the oldest idle connection to make room; false when every one is busy. */
  private evictIdle(): boolean {
    let oldest: Client | undefined;
    for (const client of this.clients) {
      if (!this.isIdle(client)) continue;
      // Never greeted counts as older than anything that did.
      if (!oldest || (!client.greeted && oldest.greeted) || (client.greeted === oldest.greeted && client.lastActive < oldest.lastActive))
        oldest = client;
    }
    if (!oldest) return false;
    this.options.log(
      'warn',
      `closed idle control connection ${oldest.id} to make room for a new one (limit ${this.limits.maxConnections})`,
    );
    this.drop(oldest, 1013, 'closed to make room: too many connections, this one idle');
    return true;
  }

  private isIdle(client: Client): boolean {
    return !client.greeted || (client.subscriptions.size === 0 && !client.held && client.peer.requestsInFlight === 0);
  }

  /** Removes a client at once (its close listeners run now, whatever the socket does next). */
  private drop(client: Client, code: number, reason: string): void {
    client.ws.close(code, reason);
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => client.ws.terminate(), 1_000).unref();
    this.forget(client);
  }

  private forget(client: Client): void {
    if (!this.clients.delete(client)) return;
    clearTimeout(client.timer);
    if (client.stall) clearTimeout(client.stall.timer);
    client.peer.close(new McpdError('MCPD_CONTROL_CLOSED', 'The client disconnected.'));
    for (const listener of client.closeListeners) {
      try {
        listener();
      } catch (error) {
        this.options.log('warn', `control connection ${client.id}: a close listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** One timer per connection: the hello deadline first, then the idle deadline. */
  private armTimer(client: Client): void {
    clearTimeout(client.timer);
    if (!client.greeted) {
      client.timer = setTimeout(
        () => this.drop(client, 1008, `no hello within ${this.limits.helloTimeoutMs} ms`),
        this.limits.helloTimeoutMs,
      );
    } else {
      const check = () => {
        const quietFor = Date.now() - client.lastActive;
        if (this.isIdle(client) && quietFor >= this.limits.idleTimeoutMs) {
          this.drop(client, 1000, `idle for ${Math.round(quietFor / 1000)} s`);
          return;
        }
        client.timer = setTimeout(check, Math.max(1_000, this.limits.idleTimeoutMs - quietFor));
      };
      client.timer = setTimeout(check, this.limits.idleTimeoutMs);
    }
    client.timer.unref();
  }

  private onConnection(ws: WebSocket, socket: Socket, scope?: { view: string }): void {
    const client = {
      id: this.nextId++,
      scope,
      subscriptions: new Set<EventName>(),
      ws,
      socket,
      corked: false,
      uncork: () => {
        client.corked = false;
        client.socket.uncork();
      },
      greeted: false,
      held: false,
      lastActive: Date.now(),
      timer: undefined,
      stall: undefined,
      unread: () => client.ws.bufferedAmount,
      closeListeners: [] as (() => void)[],
      notify: (event: EventName, params: unknown) => client.peer.notify(event, params),
      onClose: (listener: () => void) => {
        // Already gone (it closed while the request that asks was running): now, not never.
        if (!this.clients.has(client)) listener();
        else client.closeListeners.push(listener);
      },
      hold: () => {
        client.held = true;
      },
      request: (method: string, params: unknown, options: { signal?: AbortSignal; timeoutMs?: number }) =>
        client.peer.request(method, params, options),
    } as unknown as Client;
    // Every answer goes through the slow-reader check (events go through notify above).
    client.peer = new JsonRpcPeer((text) => this.sendTo(client, text), {
      onRequest: async (method, params, context) => {
        client.lastActive = Date.now();
        if (client.peer.requestsInFlight > this.limits.maxRequestsInFlight) {
          throw new McpdError(
            'MCPD_CONTROL_PROTOCOL',
            `Too many requests in flight on this connection (limit ${this.limits.maxRequestsInFlight}); wait for answers before sending more.`,
          );
        }
        // An App view's connection takes no events: they would tell it of every server.
        if ((method === 'events.subscribe' || method === 'events.unsubscribe') && !client.scope)
          return this.subscribe(client, method, params);
        const result = await this.options.handle(method, params, context, client);
        if (method === 'hello' && !client.greeted) {
          client.greeted = true;
          this.armTimer(client);
        }
        client.lastActive = Date.now();
        return result;
      },
      toError: this.options.toError,
    });
    this.clients.add(client);
    this.armTimer(client);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const text = JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: JSONRPC_ERRORS.INVALID_REQUEST, message: 'Binary messages are not supported; send JSON text' },
        });
        this.sendTo(client, text);
        return;
      }
      client.peer.receive((data as Buffer).toString('utf8'));
    });
    ws.on('close', () => this.forget(client));
    ws.on('error', (error) => {
      this.options.log('warn', `control connection ${client.id}: ${error.message}`);
    });
  }

  private subscribe(client: Client, method: string, params: unknown): { subscribed: EventName[] } {
    const events = (params as { events?: unknown }).events;
    if (!Array.isArray(events) || events.some((e) => !(EVENT_NAMES as readonly unknown[]).includes(e))) {
      throw new McpdError('MCPD_CONTROL_PROTOCOL', `events must be a list of: ${EVENT_NAMES.join(', ')}`);
    }
    for (const event of events as EventName[]) {
      if (method === 'events.subscribe') client.subscriptions.add(event);
      else client.subscriptions.delete(event);
    }
    return { subscribed: [...client.subscriptions] };
  }

  /** Sends, unless the client has stopped reading (slow-readers.ts). */
  private sendTo(client: Client, text: string): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (!this.readers.admit(client, text.length)) return;
    client.lastActive = Date.now();
    // Frames sent in the same turn of the event loop leave in one write, not one syscall each.
    if (!client.corked) {
      client.corked = true;
      client.socket.cork();
      process.nextTick(client.uncork);
    }
    client.ws.send(text);
  }
}
