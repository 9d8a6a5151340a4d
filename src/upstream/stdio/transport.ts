/**
 * An MCP SDK `Transport` over a process's stdin/stdout that we spawned ourselves (the SDK's own
 * StdioClientTransport insists on spawning). One JSON-RPC message per line, as the SDK frames it
 * (serializeMessage); what this adds: lines that are not JSON-RPC are skipped and counted, never
 * fatal, and a result may be up to 64 MiB.
 *
 * Lines are read here rather than by the SDK's ReadBuffer, which copies everything it holds on
 * each chunk and runs the full zod schema of a JSON-RPC message over every line (a copy of
 * every result, on a path where the SDK's Protocol checks the message's kind again): a message
 * only needs the shape the Protocol dispatches on.
 */
import type { Readable, Writable } from 'node:stream';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { CallRelay } from '../../hotpath/call-relay.js';
import { isJsonRpcMessage } from '../../hotpath/message-shape.js';
import { reclaimAfter } from '../../hotpath/reclaim.js';

export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Bytes that may wait for a server that is slow to read its stdin. Past it a write fails (the
 * call with it) instead of buffering without bound; one message alone may be larger. A server
 * that stopped reading altogether is caught sooner by the health pings (two missed = hung).
 */
export const MAX_PENDING_WRITE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

class NotJsonRpcError extends Error {}

export class NotReadingError extends Error {
  constructor(readonly pendingBytes: number) {
    super(`the server is not reading its stdin (${pendingBytes} bytes are waiting to be written to it)`);
  }
}

export interface ChildStdioTransportOptions {
  /** Told of each stdout line that was not a JSON-RPC message. */
  onSkippedLine?: (error: unknown) => void;
  /** Told of every message received (health checks use it as a sign of life). */
  onActivity?: () => void;
  /** The process at the other end. */
  pid?: number;
}

export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Tool calls relayed beside the SDK's Client (call-relay.ts); their messages never reach it. */
  readonly calls = new CallRelay((message) => this.send(message));
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private closed = false;
  private readonly inbox: JSONRPCMessage[] = [];
  private delivering = false;
  /** Why the connection closed on its own (stdout ended, a message too large); unset when we closed it. */
  closeReason: string | undefined;
  /**
   * The SDK's client tells a local pipe from HTTP by these two: on a pipe, a `server/discover`
   * probe that gets no answer means a server of 2025, not an outage.
   */
  readonly pid: number | null;
  readonly stderr = null;

  constructor(
    private readonly stdin: Writable,
    private readonly stdout: Readable,
    private readonly options: ChildStdioTransportOptions = {},
  ) {
    this.pid = options.pid ?? null;
  }

  async start(): Promise<void> {
    this.stdout.on('data', this.onData);
    this.stdout.on('error', this.onStreamError);
    this.stdout.once('close', this.onStreamClose);
    this.stdin.on('error', this.onStreamError);
  }

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let end = chunk.indexOf(NEWLINE); end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      // The start of a line that came in earlier chunks is joined once, when its end arrives.
      const line =
        this.partial.length === 0
          ? chunk.toString('utf8', start, end)
          : Buffer.concat([...this.partial, chunk.subarray(start, end)]).toString('utf8');
      this.partial = [];
      this.partialBytes = 0;
      this.receiveLine(line);
      start = end + 1;
    }
    if (start < chunk.length) {
      this.partial.push(start === 0 ? chunk : chunk.subarray(start));
      this.partialBytes += chunk.length - start;
      if (this.partialBytes > MAX_MESSAGE_BYTES) {
        this.closeBecause(`a message on its stdout exceeded ${MAX_MESSAGE_BYTES / (1024 * 1024)} MiB`);
        return;
      }
    }
    void this.deliver();
  };

  private receiveLine(line: string): void {
    reclaimAfter(line.length);
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (error) {
      this.options.onSkippedLine?.(error);
      return;
    }
    if (!isJsonRpcMessage(message)) {
      this.options.onSkippedLine?.(new NotJsonRpcError('not a JSON-RPC message'));
      return;
    }
    this.options.onActivity?.();
    if (this.calls.take(message, line)) return;
    this.inbox.push(message);
  }

  /**
   * Hands messages over in order. The SDK runs a notification's handler a microtask later but
   * handles a response at once, so a response right behind a notification (the last progress
   * of a call, then its result, in one chunk) would overtake it and the notification be lost:
   * after a notification, the next message waits that microtask.
   */
  private async deliver(): Promise<void> {
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let message = this.inbox.shift(); message !== undefined; message = this.inbox.shift()) {
        if (this.closed) break;
        this.onmessage?.(message);
        if ('method' in message && !('id' in message)) await Promise.resolve();
      }
    } finally {
      this.delivering = false;
    }
  }

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onStreamClose = (): void => {
    this.closeBecause('its stdout closed');
  };

  private closeBecause(reason: string): void {
    if (this.closed) return;
    this.closeReason = reason;
    void this.close();
  }

  /**
   * Writes without waiting for 'drain' (no listener per write): what waits is bounded by
   * MAX_PENDING_WRITE_BYTES instead, and a write past it fails with NotReadingError.
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Not connected'));
    const line = serializeMessage(message);
    const pending = this.stdin.writableLength + this.batchBytes;
    if (pending > 0 && pending + line.length > MAX_PENDING_WRITE_BYTES) return Promise.reject(new NotReadingError(pending));
    // Messages sent in the same turn of the event loop go in one write (one syscall, not one each).
    this.batch.push(line);
    this.batchBytes += line.length;
    if (this.batch.length === 1) process.nextTick(this.flush);
    return Promise.resolve();
  }

  private batch: string[] = [];
  private batchBytes = 0;

  private readonly flush = (): void => {
    const lines = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (this.closed || lines.length === 0) return;
    this.stdin.write(lines.length === 1 ? lines[0]! : lines.join(''));
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdout.off('data', this.onData);
    // Keep draining what the process still writes, so it never blocks on a full pipe.
    this.stdout.resume();
    this.calls.close();
    this.partial = [];
    this.inbox.length = 0;
    this.onclose?.();
  }
}
