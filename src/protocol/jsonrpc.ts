/**
 * A small JSON-RPC 2.0 peer over any text channel. Both ends of the control socket use it.
 * Requests have timeouts and can be cancelled; a malformed message gets a JSON-RPC error.
 */
import { JSONRPC_ERRORS, CANCEL_NOTIFICATION } from './control.js';
import { LazyAbort } from '../hotpath/lazy-abort.js';
import { IdTable } from '../hotpath/id-table.js';
import { rawJsonOf, responseWithRawResult } from '../hotpath/raw-json.js';

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: { code?: string; server?: string; details?: Record<string, unknown> };
}

/**
 * An error to answer a request with: its JSON-RPC code and data go to the peer as they are (the
 * MCP SDK's Protocol sends a handler's thrown `code`, `message` and `data`). Not the SDK's
 * McpError, whose message carries an "MCP error N:" prefix that the peer's SDK adds again.
 */
export class JsonRpcError extends Error {
  override readonly name: string = 'JsonRpcError';
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** An error the other end answered. `mcpdCode` is the stable MCPD_* code when there is one. */
export class RpcError extends JsonRpcError {
  override readonly name: string = 'RpcError';
  constructor(
    code: number,
    message: string,
    readonly mcpdCode?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(code, message, mcpdCode || details ? { ...(mcpdCode ? { code: mcpdCode } : {}), ...(details ? { details } : {}) } : undefined);
  }
}

export interface RequestContext {
  id: string | number;
  /** Aborted when the client cancels this request or disconnects (`.signal` for an AbortSignal). */
  cancel: LazyAbort;
}

export interface PeerHandlers {
  onRequest?: (method: string, params: unknown, context: RequestContext) => Promise<unknown>;
  onNotification?: (method: string, params: unknown) => void;
  /** How to turn a thrown value into the error sent back. */
  toError?: (error: unknown) => RpcErrorObject;
}

interface Pending {
  id: number;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  cleanup: () => void;
}

export class JsonRpcPeer {
  private nextId = 1;
  // Id tables, not Maps: they churn on every request (hotpath/id-table.ts says why that matters).
  private readonly pending = new IdTable<Pending>();
  private readonly incoming = new IdTable<LazyAbort>();
  private closedWith: Error | undefined;

  constructor(
    private readonly send: (text: string) => void,
    private readonly handlers: PeerHandlers = {},
  ) {}

  request(method: string, params: unknown, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.settle(id);
        this.notify(CANCEL_NOTIFICATION, { id });
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
      };
      if (options.signal?.aborted) {
        reject(options.signal.reason instanceof Error ? options.signal.reason : new Error('cancelled'));
        return;
      }
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.settle(id);
              this.notify(CANCEL_NOTIFICATION, { id });
              reject(new RpcError(JSONRPC_ERRORS.INTERNAL_ERROR, `${method} got no answer within ${options.timeoutMs} ms`, 'MCPD_TIMEOUT'));
            }, options.timeoutMs);
      this.pending.set(id, { id, resolve, reject, timer, cleanup: () => options.signal?.removeEventListener('abort', onAbort) });
      try {
        this.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      } catch (error) {
        this.settle(id);
        reject(error);
      }
    });
  }

  notify(method: string, params: unknown): void {
    if (this.closedWith) return;
    this.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  /** Requests from the other side still being answered. */
  get requestsInFlight(): number {
    return this.incoming.size;
  }

  /** Feeds one incoming message. */
  receive(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.reply(null, undefined, { code: JSONRPC_ERRORS.PARSE_ERROR, message: 'Parse error: the message is not valid JSON' });
      return;
    }
    if (Array.isArray(message)) {
      this.reply(null, undefined, { code: JSONRPC_ERRORS.INVALID_REQUEST, message: 'Batches are not supported' });
      return;
    }
    if (message === null || typeof message !== 'object' || (message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
      this.reply(null, undefined, { code: JSONRPC_ERRORS.INVALID_REQUEST, message: 'Invalid request: expected a JSON-RPC 2.0 object' });
      return;
    }
    const m = message as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: RpcErrorObject };
    const validId = typeof m.id === 'string' || typeof m.id === 'number';
    if (typeof m.method === 'string') {
      if (m.id === undefined) {
        this.onNotification(m.method, m.params);
        return;
      }
      if (!validId) {
        this.reply(null, undefined, { code: JSONRPC_ERRORS.INVALID_REQUEST, message: 'Invalid request: id must be a string or a number' });
        return;
      }
      void this.onRequest(m.id as string | number, m.method, m.params);
      return;
    }
    if (validId && ('result' in m || 'error' in m)) {
      const pending = this.pending.get(m.id as string | number);
      if (!pending) return; // late answer to a cancelled or timed-out request
      this.settle(m.id as string | number);
      if (m.error) pending.reject(new RpcError(m.error.code, m.error.message, m.error.data?.code, m.error.data?.details));
      else pending.resolve(m.result);
      return;
    }
    this.reply(validId ? (m.id as string | number) : null, undefined, {
      code: JSONRPC_ERRORS.INVALID_REQUEST,
      message: 'Invalid request: no method',
    });
  }

  /** Fails every pending request and aborts every running handler. */
  close(error: Error): void {
    if (this.closedWith) return;
    this.closedWith = error;
    for (const pending of this.pending.values()) {
      this.settle(pending.id);
      pending.reject(error);
    }
    for (const cancel of this.incoming.values()) cancel.abort(error);
    this.incoming.clear();
  }

  private onNotification(method: string, params: unknown): void {
    if (method === CANCEL_NOTIFICATION) {
      const id = (params as { id?: unknown } | undefined)?.id;
      const cancel = typeof id === 'string' || typeof id === 'number' ? this.incoming.get(id) : undefined;
      cancel?.abort(new Error('cancelled by the client'));
      return;
    }
    this.handlers.onNotification?.(method, params);
  }

  private async onRequest(id: string | number, method: string, params: unknown): Promise<void> {
    if (!this.handlers.onRequest) {
      this.reply(id, undefined, { code: JSONRPC_ERRORS.METHOD_NOT_FOUND, message: `Unknown method ${method}` });
      return;
    }
    const cancel = new LazyAbort();
    this.incoming.set(id, cancel);
    try {
      const result = await this.handlers.onRequest(method, params ?? {}, { id, cancel });
      this.reply(id, result ?? null);
    } catch (error) {
      const object = this.handlers.toError?.(error) ?? {
        code: JSONRPC_ERRORS.INTERNAL_ERROR,
        message: (error as Error)?.message ?? String(error),
      };
      this.reply(id, undefined, object);
    } finally {
      this.incoming.delete(id);
    }
  }

  private reply(id: string | number | null, result: unknown, error?: RpcErrorObject): void {
    if (this.closedWith) return;
    // A tool's result that still carries the server's text of it goes out as that text.
    const raw = error || id === null ? undefined : rawJsonOf(result);
    try {
      this.send(
        raw !== undefined
          ? responseWithRawResult(id!, raw)
          : JSON.stringify(error ? { jsonrpc: '2.0', id, error } : { jsonrpc: '2.0', id, result }),
      );
    } catch {
      // The channel is gone; the close handler deals with it.
    }
  }

  private settle(id: string | number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    pending.cleanup();
    this.pending.delete(id);
  }
}
