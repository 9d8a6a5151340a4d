/**
 * Tool calls of a 2025 session answered beside its SDK Server, on the session's own transport
 * (as hotpath/call-relay.ts does toward servers). The v1 Server's dispatch cost a relayed call
 * more than the rest of the front did: a zod parse of the request and of the result, an
 * AbortController, a chain of promises. A plain `tools/call` (plainCall says which) is run here
 * through the same function the Server's own handler runs, with what the SDK would give it (its
 * cancellation, progress and the server's questions on the request's own stream); the answer is
 * written as the SDK's Protocol writes it. Everything else goes to the Server as before.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { LazyAbort } from '../../hotpath/lazy-abort.js';
import { isPlain } from '../../util/plain.js';

/** A tools/call with nothing in it that needs the SDK: no task, no related task. */
export interface PlainCall {
  id: string | number;
  name: string;
  arguments: Record<string, unknown> | undefined;
  meta: Record<string, unknown> | undefined;
}

const isId = (id: unknown): id is string | number => typeof id === 'string' || Number.isSafeInteger(id);

/** The keys a plain call's params may have (task augmentation and the rest stay with the SDK). */
const PLAIN_PARAMS = new Set(['name', 'arguments', '_meta']);
const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/** The call in `message` when it is one the SDK would take as it is (its schema), else undefined. */
export function plainCall(message: unknown): PlainCall | undefined {
  if (!isPlain(message) || message['method'] !== 'tools/call' || message['jsonrpc'] !== '2.0' || !isId(message['id'])) return undefined;
  const params = message['params'];
  if (!isPlain(params) || typeof params['name'] !== 'string') return undefined;
  for (const key in params) if (!PLAIN_PARAMS.has(key)) return undefined;
  const args = params['arguments'];
  const meta = params['_meta'];
  if (args !== undefined && !isPlain(args)) return undefined;
  if (meta !== undefined && (!isPlain(meta) || RELATED_TASK in meta)) return undefined;
  const token = meta?.['progressToken'];
  if (token !== undefined && !isId(token)) return undefined;
  return { id: message['id'], name: params['name'], arguments: args, meta };
}

/** What a handler threw, as the SDK's Protocol answers it. */
export function errorResponse(id: string | number, error: unknown): JSONRPCMessage {
  const { code, message, data } = (error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: Number.isSafeInteger(code) ? (code as number) : -32603,
      message: typeof message === 'string' ? message : 'Internal error',
      ...(data !== undefined ? { data } : {}),
    },
  };
}

/** Runs one call; its cancellation aborts when the client cancels it or the session ends. */
export type QuickRun = (call: PlainCall, cancellation: LazyAbort) => Promise<unknown>;

/** The session's transport, as the Server sees it, with plain tool calls taken off it first. */
export class QuickCallTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** Calls in flight by id: a client's cancel reaches them, the session's end aborts them. */
  private readonly running = new Map<string | number, LazyAbort>();

  constructor(
    private readonly inner: Transport,
    private readonly run: QuickRun,
  ) {
    inner.onmessage = (message, extra) => this.receive(message, extra);
    inner.onclose = () => {
      for (const cancellation of this.running.values()) cancellation.abort(new Error('the session ended'));
      this.running.clear();
      this.onclose?.();
    };
    inner.onerror = (error) => this.onerror?.(error);
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const call = plainCall(message);
    // (A second request with an id still in flight is the SDK's to answer, as it always was.)
    if (call && !this.running.has(call.id)) return this.answer(call);
    const fields = message as { method?: unknown; params?: { requestId?: unknown; reason?: unknown } };
    if (fields.method === 'notifications/cancelled') {
      const requestId = fields.params?.requestId;
      const cancellation = isId(requestId) ? this.running.get(requestId) : undefined;
      if (cancellation) return void cancellation.abort(fields.params?.reason);
    }
    this.onmessage?.(message, extra);
  }

  private answer(call: PlainCall): void {
    // (Lazy: a signal per call costs, and almost none is cancelled: hotpath/lazy-abort.ts.)
    const cancellation = new LazyAbort();
    this.running.set(call.id, cancellation);
    const reply = (response: JSONRPCMessage) => {
      if (this.running.get(call.id) !== cancellation) return;
      this.running.delete(call.id);
      // A cancelled request gets no answer (the SDK sends none either).
      if (cancellation.aborted) return;
      this.inner.send(response).catch((error: unknown) => this.onerror?.(error instanceof Error ? error : new Error(String(error))));
    };
    this.run(call, cancellation).then(
      (result) => reply({ jsonrpc: '2.0', id: call.id, result: result as Record<string, unknown> }),
      (error: unknown) => reply(errorResponse(call.id, error)),
    );
  }
}
