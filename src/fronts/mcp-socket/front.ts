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
import type { SessionPorts } from '../mcp/session.js';
import { EndpointView, parseViewPath, type ViewPorts } from '../mcp/view.js';
import { isJsonRpcMessage } from '../../hotpath/message-shape.js';
import type { OpenSession, SocketSessions } from './sessions.js';

/** A tool's arguments may be large; results are bounded by the servers' own 64 MiB. */
export const MAX_MCP_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_SESSIONS = 64;

export class McpSocketFront implements Front {
  readonly name = 'mcp-socket';
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  /** Open connections of either era: each closes its own session. */
  private readonly sessions = new Set<OpenSession>();
  private closing: Promise<void> | undefined;
  /** The sessions' code (sessions.ts), loaded once: by the first connection, or by warm(). */
  private engine: Promise<SocketSessions> | undefined;

  constructor(
    private readonly ports: SessionPorts & ViewPorts,
    private readonly options: { socketPath: string; log: Logger },
  ) {
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

  /** Loads the sessions' code now (the daemon is ready), so that the first bridge does not wait for it. */
  async warm(): Promise<void> {
    if (this.closing) return;
    await this.loadSessions().catch((error: unknown) => this.options.log.warn(`MCP socket: ${errorMessage(error)}`));
  }

  private loadSessions(): Promise<SocketSessions> {
    this.engine ??= import('./sessions.js').then(({ SocketSessions }) => new SocketSessions(this.ports, this.options.log, this.sessions));
    return this.engine;
  }

  describe(): FrontStatus {
    return { name: 'mcp-socket', address: this.options.socketPath, sessions: this.sessions.size };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.sessions].map((s) => s.close()));
      const engine = await this.engine?.catch(() => undefined);
      await engine?.close();
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
    // The upgrade waits for the sessions' code; until it is answered the client sends nothing.
    this.loadSessions().then(
      (sessions) => {
        if (this.closing) refuseUpgrade(socket, 503, 'Daemon stopping');
        else this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, socket as Socket, view, sessions));
      },
      (error: unknown) => {
        this.options.log.warn(`MCP socket: ${errorMessage(error)}`);
        refuseUpgrade(socket, 500, 'The MCP sessions could not be loaded');
      },
    );
  }

  private onConnection(ws: WebSocket, socket: Socket, view: EndpointView, sessions: SocketSessions): void {
    ws.once('message', (data, isBinary) => {
      let first: unknown;
      try {
        first = isBinary ? undefined : JSON.parse((data as Buffer).toString('utf8'));
      } catch {
        first = undefined;
      }
      sessions.serve(ws, socket, view, isJsonRpcMessage(first) ? first : undefined);
    });
  }
}
