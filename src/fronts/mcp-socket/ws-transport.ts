/**
 * An MCP SDK `Transport` over one WebSocket: one JSON-RPC message per text frame. The daemon's
 * end of a bridge. A client too far behind in reading is cut off rather than buffered for.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { WebSocket } from 'ws';

export class WebSocketServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly maxBufferedBytes: number,
  ) {}

  async start(): Promise<void> {
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.onerror?.(new Error('binary frames are not MCP messages'));
        return;
      }
      let message: JSONRPCMessage;
      try {
        message = JSONRPCMessageSchema.parse(JSON.parse(data.toString()));
      } catch (error) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.onmessage?.(message);
    });
    this.ws.on('close', () => this.finish());
    this.ws.on('error', (error) => this.onerror?.(error));
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) throw new Error('Not connected');
    if (this.ws.bufferedAmount > this.maxBufferedBytes) {
      this.ws.terminate();
      throw new Error(`the client stopped reading (${this.ws.bufferedAmount} bytes unread); disconnected`);
    }
    this.ws.send(JSON.stringify(message));
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
