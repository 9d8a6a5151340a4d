/**
 * An MCP SDK `Transport` over one WebSocket: one JSON-RPC message per text frame. The daemon's
 * end of a bridge. A client too far behind in reading is cut off rather than buffered for.
 * Messages sent in the same tick leave in one write (the socket is corked until the next tick).
 */
import type { Socket } from 'node:net';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { WebSocket } from 'ws';
import { isJsonRpcMessage } from '../../hotpath/message-shape.js';
import { messageText } from '../../hotpath/raw-json.js';

export class WebSocketServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private closed = false;
  private corked = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Socket,
    private readonly maxBufferedBytes: number,
    /** A message read before the transport started (the one that told the era), delivered first. */
    private readonly first?: JSONRPCMessage,
  ) {}

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  async start(): Promise<void> {
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.onerror?.(new Error('binary frames are not MCP messages'));
        return;
      }
      let message: unknown;
      try {
        message = JSON.parse((data as Buffer).toString('utf8'));
      } catch (error) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (!isJsonRpcMessage(message)) {
        this.onerror?.(new Error('not a JSON-RPC message'));
        return;
      }
      this.onmessage?.(message);
    });
    this.ws.on('close', () => this.finish());
    this.ws.on('error', (error) => this.onerror?.(error));
    if (this.first) {
      const first = this.first;
      queueMicrotask(() => this.onmessage?.(first));
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) throw new Error('Not connected');
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.ws.terminate();
      throw new Error(`the client stopped reading (${this.ws.bufferedAmount} bytes unread); disconnected`);
    }
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(messageText(message));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000, 'session closed');
    this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}
