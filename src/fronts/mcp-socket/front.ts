/**
 * The bridge's way in: MCP over WebSockets on the Unix socket MCPD_HOME/mcp.sock (0600 in the
 * 0700 home, like the control socket: file permissions are the authentication). The path names
 * the view, as on the HTTP gateway: `/mcp` the merged catalogue, `/servers/NAME/mcp` one server.
 * `mcpd bridge` is a thin pipe between a host's stdio and one of these.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { closeSocket, listenOnSocket, refuseUpgrade } from '../unix-socket.js';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorMessage } from '../../errors.js';
import type { Front, Logger } from '../../ports/index.js';
import type { FrontStatus } from '../../protocol/types.js';
import { DOORS, refusal, refusalText } from '../door.js';
import { limitedServer } from '../http-limits.js';
import { createMcpSession, type McpSession, type SessionPorts } from '../mcp/session.js';
import { EndpointView, parseViewPath, type ViewPorts } from '../mcp/view.js';
import { WebSocketServerTransport } from './ws-transport.js';
import { ModernEndpoints } from '../mcp/modern.js';
import { announceListChanged } from '../mcp/answers.js';
import { isJsonRpcMessage } from '../../hotpath/message-shape.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Server as McpServerV2 } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

/** Whether a first message claims the 2026-07-28 era: the per-request envelope in its `_meta`. */
function claimsModernEra(message: JSONRPCMessage): boolean {
  const meta = (message as { params?: { _meta?: Record<string, unknown> } }).params?._meta;
  return typeof meta?.['io.modelcontextprotocol/protocolVersion'] === 'string';
}

/** A tool's arguments may be large; results are bounded by the servers' own 64 MiB. */
export const MAX_MCP_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const MAX_SESSIONS = 64;

export class McpSocketFront implements Front {
  readonly name = 'mcp-socket';
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** Open connections of either era: each closes its own session. */
  private readonly sessions = new Set<{ close(): Promise<void> }>();
  private closing: Promise<void> | undefined;
  private readonly modern: ModernEndpoints;

  constructor(
    private readonly ports: SessionPorts & ViewPorts,
    private readonly options: { socketPath: string; log: Logger },
  ) {
    this.modern = new ModernEndpoints(ports, options.log);
    this.http = limitedServer(
      { label: 'MCP socket', maxConnections: MAX_SESSIONS * 2, headersTimeoutMs: 5_000, warn: (text) => options.log.warn(text) },
      (_req, res) => {
        res
          .writeHead(426, { 'Content-Type': 'text/plain' })
          .end('mcpd MCP socket: connect with a WebSocket to /mcp or /servers/NAME/mcp (mcpd bridge does)\n');
      },
    );
    this.http.requestTimeout = 5_000;
    // Its clients are mcpd bridge processes on a 0600 socket: no UTF-8 re-validation of every frame.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MCP_MESSAGE_BYTES,
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    await listenOnSocket(this.http, this.options.socketPath);
  }

  describe(): FrontStatus {
    return { name: 'mcp-socket', address: this.options.socketPath, sessions: this.sessions.size };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.sessions].map((s) => s.close()));
      await this.modern.close();
      this.wss.close();
      this.http.closeAllConnections();
      await closeSocket(this.http, this.options.socketPath);
    })();
    return this.closing;
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refused = refusal(req.headers, DOORS.mcpSocket);
    if (refused) {
      refuseUpgrade(socket, refused.status, refusalText(refused));
      return;
    }
    if (this.closing) {
      refuseUpgrade(socket, 503, 'Daemon stopping');
      return;
    }
    if (this.sessions.size >= MAX_SESSIONS) {
      refuseUpgrade(socket, 503, `Too many MCP sessions (limit ${MAX_SESSIONS})`);
      return;
    }
    const spec = parseViewPath(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!spec) {
      refuseUpgrade(socket, 404, 'Not found: use /mcp or /servers/NAME/mcp');
      return;
    }
    const view = new EndpointView(spec, this.ports);
    try {
      view.check();
    } catch (error) {
      refuseUpgrade(socket, 404, errorMessage(error));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, socket as Socket, view));
  }

  /** The era is told by the first message: a 2026 request carries its envelope, a 2025 client opens with initialize. */
  private onConnection(ws: WebSocket, socket: Socket, view: EndpointView): void {
    ws.once('message', (data, isBinary) => {
      let first: unknown;
      try {
        first = isBinary ? undefined : JSON.parse((data as Buffer).toString('utf8'));
      } catch {
        first = undefined;
      }
      if (isJsonRpcMessage(first) && claimsModernEra(first)) this.serveModern(ws, socket, view, first);
      else void this.serveLegacy(ws, socket, view, isJsonRpcMessage(first) ? first : undefined);
    });
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
      onerror: (error) => this.options.log.warn(`MCP socket (2026-07-28) on ${view.label}: ${error.message}`),
    });
    const session = {
      close: async () => {
        off();
        this.sessions.delete(session);
        await handle.close().catch(() => undefined);
      },
    };
    this.sessions.add(session);
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
          if (opened.session) this.sessions.delete(opened.session);
        },
      });
      this.sessions.add(opened.session);
    } catch (error) {
      this.options.log.warn(`MCP session on ${view.label} failed to open: ${errorMessage(error)}`);
      ws.terminate();
    }
  }
}
