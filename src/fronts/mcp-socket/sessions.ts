/**
 * The MCP sessions behind the bridge's socket, of either era: the SDKs' server side (half the
 * daemon's code). front.ts loads this module when the first connection needs it, or once the
 * daemon is ready, so that compiling it never competes with the servers' own start-up.
 */
import type { Socket } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Server as McpServerV2 } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { WebSocket } from 'ws';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../ports/index.js';
import { announceListChanged } from '../mcp/answers.js';
import { ModernEndpoints } from '../mcp/modern.js';
import { createMcpSession, type McpSession, type SessionPorts } from '../mcp/session.js';
import type { EndpointView, ViewPorts } from '../mcp/view.js';
import { WebSocketServerTransport } from './ws-transport.js';

const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** What a session is to the front that holds it: something to close. */
export interface OpenSession {
  close(): Promise<void>;
}

/** Whether a first message claims the 2026-07-28 era: the per-request envelope in its `_meta`. */
function claimsModernEra(message: JSONRPCMessage): boolean {
  const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  return typeof meta?.['io.modelcontextprotocol/protocolVersion'] === 'string';
}

export class SocketSessions {
  private readonly modern: ModernEndpoints;

  constructor(
    private readonly ports: SessionPorts & ViewPorts,
    private readonly log: Logger,
    /** The front's open sessions: each adds itself here and leaves when it closes. */
    private readonly open: Set<OpenSession>,
  ) {
    this.modern = new ModernEndpoints(ports, log);
  }

  /** The era is told by the first message: a 2026 request carries its envelope, a 2025 client opens with initialize. */
  serve(ws: WebSocket, socket: Socket, view: EndpointView, first: JSONRPCMessage | undefined): void {
    if (first && claimsModernEra(first)) this.serveModern(ws, socket, view, first);
    else void this.serveLegacy(ws, socket, view, first);
  }

  close(): Promise<void> {
    return this.modern.close();
  }

  /** 2026-07-28: the v2 SDK's stdio entry over this socket, one server pinned for the connection. */
  private serveModern(ws: WebSocket, socket: Socket, view: EndpointView, first: JSONRPCMessage): void {
    const transport = new WebSocketServerTransport(ws, socket, MAX_BUFFERED_BYTES, first);
    let pinned: McpServerV2 | undefined;
    const off = this.ports.events.on('catalogue:changed', (event) => {
      if (pinned && view.includes(event.server)) announceListChanged(pinned, event.kind);
    });
    const handle = serveStdio(() => (pinned = this.modern.server(view)), {
      legacy: 'reject',
      transport: transport,
      onerror: (error) => this.log.warn(`MCP socket (2026-07-28) on ${view.label}: ${error.message}`),
    });
    const session = {
      close: async () => {
        off();
        this.open.delete(session);
        await handle.close().catch(() => undefined);
      },
    };
    this.open.add(session);
    ws.once('close', () => void session.close());
  }

  private async serveLegacy(ws: WebSocket, socket: Socket, view: EndpointView, first: JSONRPCMessage | undefined): Promise<void> {
    const transport = new WebSocketServerTransport(ws, socket, MAX_BUFFERED_BYTES, first);
    try {
      // The session may close while it is being made: its onClosed then finds none to forget.
      const opened: { session?: McpSession } = {};
      opened.session = await createMcpSession(this.ports, view, transport, {
        front: 'mcp-socket',
        onClosed: () => {
          if (opened.session) this.open.delete(opened.session);
        },
      });
      this.open.add(opened.session);
    } catch (error) {
      this.log.warn(`MCP session on ${view.label} failed to open: ${errorMessage(error)}`);
      ws.terminate();
    }
  }
}
