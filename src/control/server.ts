/**
 * The daemon's end of the control socket: a WebSocket server on a Unix domain socket
 * (MCPD_HOME/mcpd.sock, 0600; the folder is 0700, so file permissions are the authentication).
 * Refuses any request with an Origin header (no browser page can drive the daemon) and any
 * non-loopback Host; limits message size, connections and unread output.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { McpdError } from '../errors.js';
import { JsonRpcPeer, type RequestContext, type RpcErrorObject } from './jsonrpc.js';
import {
  EVENT_NAMES,
  JSONRPC_ERRORS,
  MAX_BUFFERED_BYTES,
  MAX_CONNECTIONS,
  MAX_INCOMING_MESSAGE_BYTES,
  type EventName,
  type Events,
} from './protocol.js';

export interface ControlConnection {
  readonly id: number;
  readonly subscriptions: Set<EventName>;
  /** Sends one event to this connection, subscribed or not. */
  notify<E extends EventName>(event: E, params: Events[E]): void;
  /** Runs when the connection closes. */
  onClose(listener: () => void): void;
}

export type RequestHandler = (method: string, params: unknown, context: RequestContext & { connection: ControlConnection }) => Promise<unknown>;

export interface ControlServerOptions {
  socketPath: string;
  handle: RequestHandler;
  toError: (error: unknown) => RpcErrorObject;
  log: (level: 'info' | 'warn', text: string) => void;
  /** Unread output after which a client is dropped (default MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
}

interface Client extends ControlConnection {
  ws: WebSocket;
  peer: JsonRpcPeer;
}

const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

export class ControlServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private nextId = 1;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ControlServerOptions) {
    this.http = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain' }).end('mcpd control socket: connect with a WebSocket (see docs/control-protocol.md)\n');
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INCOMING_MESSAGE_BYTES, perMessageDeflate: false, skipUTF8Validation: true });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.socketPath, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.options.socketPath, 0o600);
  }

  get connectionCount(): number {
    return this.clients.size;
  }

  /** Sends an event to every client subscribed to it. */
  broadcast<E extends EventName>(event: E, params: Events[E]): void {
    for (const client of this.clients) {
      if (client.subscriptions.has(event)) client.peer.notify(event, params);
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
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
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
      try {
        unlinkSync(this.options.socketPath);
      } catch {
        // already gone
      }
    })();
    return this.closing;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.headers.origin !== undefined) {
      refuse(socket, 403, 'Forbidden: requests with an Origin header are refused');
      this.options.log('warn', `refused a control connection with Origin ${req.headers.origin}`);
      return;
    }
    const host = req.headers.host;
    if (host !== undefined && host !== '' && !LOOPBACK_HOST.test(host)) {
      refuse(socket, 403, 'Forbidden: non-loopback Host');
      return;
    }
    if (this.clients.size >= MAX_CONNECTIONS || this.closing) {
      refuse(socket, 503, this.closing ? 'Daemon stopping' : `Too many connections (limit ${MAX_CONNECTIONS})`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    const closeListeners: (() => void)[] = [];
    const client = {
      id: this.nextId++,
      subscriptions: new Set<EventName>(),
      ws,
      notify: (event: EventName, params: unknown) => client.peer.notify(event, params),
      onClose: (listener: () => void) => {
        closeListeners.push(listener);
      },
    } as unknown as Client;
    // Every message, answer or event, goes through the slow-reader check.
    client.peer = new JsonRpcPeer((text) => this.sendTo(client, () => ws.send(text)), {
      onRequest: (method, params, context) => {
        if (method === 'events.subscribe' || method === 'events.unsubscribe') return Promise.resolve(this.subscribe(client, method, params));
        return this.options.handle(method, params, { ...context, connection: client });
      },
      toError: this.options.toError,
    });
    this.clients.add(client);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.sendTo(client, () => ws.send(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: JSONRPC_ERRORS.INVALID_REQUEST, message: 'Binary messages are not supported; send JSON text' } })));
        return;
      }
      client.peer.receive(data.toString());
    });
    ws.on('close', () => {
      this.clients.delete(client);
      client.peer.close(new McpdError('MCPD_CONTROL_CLOSED', 'The client disconnected.'));
      for (const listener of closeListeners) {
        try {
          listener();
        } catch (error) {
          this.options.log('warn', `control connection ${client.id}: a close listener failed: ${(error as Error).message}`);
        }
      }
    });
    ws.on('error', (error) => {
      this.options.log('warn', `control connection ${client.id}: ${error.message}`);
    });
  }

  private subscribe(client: Client, method: string, params: unknown): { subscribed: EventName[] } {
    const events = (params as { events?: unknown }).events;
    if (!Array.isArray(events) || events.some((e) => !EVENT_NAMES.includes(e as EventName))) {
      throw new McpdError('MCPD_CONTROL_PROTOCOL', `events must be a list of: ${EVENT_NAMES.join(', ')}`);
    }
    for (const event of events as EventName[]) {
      if (method === 'events.subscribe') client.subscriptions.add(event);
      else client.subscriptions.delete(event);
    }
    return { subscribed: [...client.subscriptions] };
  }

  private sendTo(client: Client, send: () => void): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    if (client.ws.bufferedAmount > (this.options.maxBufferedBytes ?? MAX_BUFFERED_BYTES)) {
      this.options.log('warn', `dropped control connection ${client.id}: it stopped reading (${client.ws.bufferedAmount} bytes unread)`);
      client.ws.terminate();
      return;
    }
    send();
  }
}
