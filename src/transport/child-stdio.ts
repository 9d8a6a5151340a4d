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
const NEWLINE = 0x0a;

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
      if (this.partialBytes > MAX_MESSAGE_BYTES) {
        this.onerror?.(new Error(`a message on stdout exceeded ${MAX_MESSAGE_BYTES} bytes`));
        void this.close();
      }
      return;
    }
    const data = this.partial.length === 0 ? chunk : Buffer.concat([...this.partial, chunk]);
    this.partial = [];
    this.partialBytes = 0;
    try {
      this.readBuffer.append(data);
    } catch (error) {
      this.onerror?.(error as Error);
      void this.close();
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
      this.onmessage?.(message);
    }
  };

  private readonly onStreamError = (error: Error): void => {
    this.onerror?.(error);
  };

  private readonly onStreamClose = (): void => {
    void this.close();
  };

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Not connected'));
    return new Promise((resolve, reject) => {
      const ok = this.stdin.write(serializeMessage(message), (error) => {
        if (error) reject(error);
      });
      if (ok) resolve();
      else this.stdin.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdout.off('data', this.onData);
    this.readBuffer.clear();
    this.partial = [];
    this.onclose?.();
  }
}
