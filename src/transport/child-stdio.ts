/**
 * An MCP SDK `Transport` over a process's stdin/stdout that we spawned ourselves (the SDK's own
 * StdioClientTransport insists on spawning). Framing is the SDK's (ReadBuffer, serializeMessage);
 * what this adds: lines that are not JSON-RPC are skipped and counted, never fatal, and a
 * result may be up to 64 MiB.
 */
import type { Readable, Writable } from 'node:stream';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Bytes that may wait for a server that is slow to read its stdin. Past it a write fails (the
 * call with it) instead of buffering without bound; one message alone may be larger. A server
 * that stopped reading altogether is caught sooner by the health pings (two missed = hung).
 */
export const MAX_PENDING_WRITE_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;

/** Raised by `send` when the server is not reading its stdin. */
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
}

export class ChildStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly readBuffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private closed = false;
  private readonly inbox: JSONRPCMessage[] = [];
  private delivering = false;
  /** Why the connection closed on its own (stdout ended, a message too large); unset when we closed it. */
  closeReason: string | undefined;

  constructor(
    private readonly stdin: Writable,
    private readonly stdout: Readable,
    private readonly options: ChildStdioTransportOptions = {},
  ) {}

  async start(): Promise<void> {
    this.stdout.on('data', this.onData);
    this.stdout.on('error', this.onStreamError);
    this.stdout.once('close', this.onStreamClose);
    this.stdin.on('error', this.onStreamError);
  }

  private readonly onData = (chunk: Buffer): void => {
    // ReadBuffer copies everything it holds on each append, which makes a large message
    // quadratic (a 16 MiB result in 64 KiB chunks: ~2 GB copied). Chunks without a newline wait
    // here and reach it in one piece.
    if (chunk.indexOf(NEWLINE) === -1) {
      this.partial.push(chunk);
      this.partialBytes += chunk.length;
      if (this.partialBytes > MAX_MESSAGE_BYTES) this.closeBecause(`a message on its stdout exceeded ${MAX_MESSAGE_BYTES / (1024 * 1024)} MiB`);
      return;
    }
    const data = this.partial.length === 0 ? chunk : Buffer.concat([...this.partial, chunk]);
    this.partial = [];
    this.partialBytes = 0;
    try {
      this.readBuffer.append(data);
    } catch (error) {
      this.closeBecause(`its stdout could not be read: ${(error as Error).message}`);
      return;
    }
    for (;;) {
      let message: JSONRPCMessage | null;
      try {
        message = this.readBuffer.readMessage();
      } catch (error) {
        this.options.onSkippedLine?.(error);
        continue;
      }
      if (message === null) break;
      this.options.onActivity?.();
      this.inbox.push(message);
    }
    void this.deliver();
  };

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
    this.readBuffer.clear();
    this.partial = [];
    this.inbox.length = 0;
    this.onclose?.();
  }
}
