/**
 * A client of the control socket: what the CLI (and any thin client) uses. Loads only our own
 * small WebSocket client (unix-websocket.ts) and the protocol, never `ws` or the SDKs.
 */
import { EventEmitter } from 'eventemitter3';
import { UnixWebSocket } from './unix-websocket.js';
import { McpdError } from '../errors.js';
import { JsonRpcPeer, RpcError } from '../protocol/jsonrpc.js';
import {
  JSONRPC_ERRORS,
  PROTOCOL_VERSION,
  type EventName,
  type Events,
  type MethodName,
  type ParamsOf,
  type ResultOf,
} from '../protocol/control.js';

export interface ConnectOptions {
  socketPath: string;
  /** How long to wait for the connection and the hello. */
  timeoutMs?: number;
  clientName?: string;
  signal?: AbortSignal;
}

type ClientEvents = { [E in EventName]: (params: Events[E]) => void } & { close: (reason: string) => void };

export class ControlClient extends EventEmitter<ClientEvents> {
  private constructor(
    private readonly ws: UnixWebSocket,
    private readonly peer: JsonRpcPeer,
    readonly daemon: { version: string; pid: number },
  ) {
    super();
  }

  static async connect(options: ConnectOptions): Promise<ControlClient> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const ws = new UnixWebSocket(options.socketPath, { handshakeTimeoutMs: timeoutMs, maxPayload: 256 * 1024 * 1024 });
    let client: ControlClient | undefined;
    const peer = new JsonRpcPeer((text) => ws.send(text), {
      onNotification: (method, params) => client?.emit(method as EventName, params as never),
      onRequest: async (method, params, context) => {
        const handler = client?.requestHandlers.get(method);
        if (!handler) throw new RpcError(JSONRPC_ERRORS.METHOD_NOT_FOUND, `This client does not answer ${method}`);
        return handler(params, context.cancel.signal);
      },
    });
    ws.on('message', (data) => peer.receive(data.toString()));
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        ws.terminate();
        reject(options.signal?.reason);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      ws.once('open', () => {
        options.signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      ws.once('error', (error: NodeJS.ErrnoException) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
          reject(
            new McpdError('MCPD_DAEMON_NOT_RUNNING', `No mcpd daemon is running (no answer on ${options.socketPath}).`, { cause: error }),
          );
        } else {
          reject(
            new McpdError('MCPD_CONTROL_CLOSED', `Cannot connect to the daemon on ${options.socketPath}: ${error.message}`, {
              cause: error,
            }),
          );
        }
      });
    });
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      const text = reason.toString() || `connection closed (${code})`;
      peer.close(new McpdError('MCPD_CONTROL_CLOSED', `The daemon closed the connection: ${text}.`));
      client?.emit('close', text);
    });
    const hello = (await peer.request(
      'hello',
      { protocolVersion: PROTOCOL_VERSION, client: options.clientName ?? 'mcpd-cli' },
      { timeoutMs },
    )) as ResultOf<'hello'>;
    client = new ControlClient(ws, peer, hello.daemon);
    return client;
  }

  async request<M extends MethodName>(
    method: M,
    params: ParamsOf<M>,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<ResultOf<M>> {
    try {
      return (await this.peer.request(method, params, options)) as ResultOf<M>;
    } catch (error) {
      if (error instanceof RpcError) {
        const wrapped = new McpdError(
          (error.mcpdCode ?? 'MCPD_CONTROL_PROTOCOL') as never,
          error.message,
          error.details ? { details: error.details } : {},
        );
        throw wrapped;
      }
      throw error;
    }
  }

  private readonly requestHandlers = new Map<string, (params: unknown, signal: AbortSignal) => Promise<unknown>>();

  /** Answers the daemon's requests of `method` (e.g. `call.elicit`). */
  handle(method: string, handler: (params: unknown, signal: AbortSignal) => Promise<unknown>): void {
    this.requestHandlers.set(method, handler);
  }

  async subscribe(events: EventName[]): Promise<void> {
    await this.request('events.subscribe', { events });
  }

  close(): void {
    this.ws.close(1000, 'client done');
  }

  /** Waits until the daemon closes this connection (e.g. after daemon.stop), up to `timeoutMs`. */
  closed(timeoutMs: number): Promise<boolean> {
    if (this.ws.readyState === UnixWebSocket.CLOSED) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.ws.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
