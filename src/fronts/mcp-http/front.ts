/**
 * The HTTP gateway (config `gateway.http`): Streamable HTTP at `/mcp` (the merged catalogue) and
 * `/servers/NAME/mcp` (one server under its own names), one MCP session per client over our
 * Streamable HTTP transport (transport.ts: POST, GET for the SSE stream, DELETE, `Mcp-Session-Id`,
 * resumption).
 * Guarded like the control socket: loopback by default; `Host` and `Origin` checked against DNS
 * rebinding; a bearer token, compared in constant time, required off loopback.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { McpdError, errorMessage } from '../../errors.js';
import type { Front, HttpMount, Logger } from '../../ports/index.js';
import type { FrontStatus } from '../../protocol/types.js';
import { isLoopbackHost } from '../../util/loopback.js';
import { forgetPeer, loopbackPeerUid } from '../../util/peer-uid.js';
import { DOORS, refusal, refusalText, type DoorPolicy } from '../door.js';
import { limitedServer } from '../http-limits.js';
import { READER_LIMITS, SlowReaders, type Reader } from '../slow-readers.js';
import { createMcpSession, type McpSession, type SessionPorts } from '../mcp/session.js';
import { EndpointView, parseViewPath, type ViewPorts, type ViewSpec } from '../mcp/view.js';
import { refuseUpgrade } from '../unix-socket.js';
import { ModernEndpoints, SERVER_INFO } from '../mcp/modern.js';
import { BoundedEventStore } from './event-store.js';
import { HttpServerTransport } from './transport.js';
import { LazyAbort } from '../../hotpath/lazy-abort.js';
import { requestEra } from './era.js';
import { quickAnswer, quickCallOf } from './quick.js';
import { sendWebResponse, webRequest } from './web.js';

export interface McpHttpOptions {
  host: string;
  port: number;
  token?: string | undefined;
  log: Logger;
  /** The dashboard, served at /ui/ (only when the gateway listens on loopback). */
  ui?: HttpMount | undefined;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_SESSIONS = 256;
/** Sessions one client (by its name in initialize) may hold: past it, its own idle ones go first. */
const MAX_SESSIONS_PER_CLIENT = 64;
/** Connections at once (keep-alive, SSE streams, half-open ones), within a desktop's fd limit. */
const MAX_CONNECTIONS = 256;
/** A connection whose request headers have not come in by then is cut. */
const HEADERS_TIMEOUT_MS = 10_000;
/** A session no request touched for this long is closed (a client that vanished). */
const SESSION_IDLE_MS = 30 * 60_000;

interface HttpSession {
  transport: HttpServerTransport;
  session: McpSession;
  path: string;
  lastSeen: number;
  /** The name the client gave in initialize. */
  client: string;
}

/** An SSE stream to a client, for the slow-reader bound. */
interface Stream extends Reader {
  res: ServerResponse;
}

export class McpHttpFront implements Front {
  readonly name = 'mcp-http';
  private readonly http: Server;
  private readonly sessions = new Map<string, HttpSession>();
  private readonly sweep: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly streams = new Map<ServerResponse, Stream>();
  private readonly readers: SlowReaders<Stream>;
  /** Connections from another user, found at accept (a loopback gateway without a token serves only its own user). */
  private readonly foreign = new WeakMap<Socket, number>();
  /** The 2026-07-28 era's session-less endpoints. */
  private readonly modern: ModernEndpoints;

  constructor(
    private readonly ports: SessionPorts & ViewPorts,
    private readonly options: McpHttpOptions,
  ) {
    this.http = limitedServer(
      {
        label: 'HTTP gateway',
        maxConnections: MAX_CONNECTIONS,
        headersTimeoutMs: HEADERS_TIMEOUT_MS,
        warn: (text) => options.log.warn(text),
      },
      (req, res) => void this.handle(req, res),
    );
    this.readers = new SlowReaders<Stream>(
      READER_LIMITS,
      () => this.streams.values(),
      (stream, why) => {
        this.options.log.warn(`HTTP gateway: dropped an SSE stream: ${why} (the client may resume it)`);
        this.streams.delete(stream.res);
        stream.res.destroy();
      },
    );
    // Loopback is this machine, not this user: without a token, only the daemon's own user.
    const uid = process.getuid?.();
    if (options.token === undefined && isLoopbackHost(options.host) && process.platform === 'linux' && uid !== undefined) {
      this.http.on('connection', (socket: Socket) => {
        const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
        const local = { address: socket.localAddress ?? '', port: socket.localPort ?? 0 };
        const peer = loopbackPeerUid(remote, local);
        if (peer !== uid) this.foreign.set(socket, peer ?? -1);
        socket.once('close', () => forgetPeer(remote, local));
      });
    }
    // The only WebSocket here is the dashboard's live connection.
    this.http.on('upgrade', (req, socket, head) => {
      if (this.options.ui && !this.closing) this.options.ui.upgrade(req, socket, head, this.port());
      else refuseUpgrade(socket, 404, 'Not found');
    });
    this.sweep = setInterval(() => this.closeIdle(), 60_000).unref();
    this.modern = new ModernEndpoints(ports, options.log);
  }

  /** `http://HOST:PORT`, once listening (the port may have been 0). */
  get url(): string {
    const address = this.http.address() as AddressInfo | null;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${address?.port ?? this.options.port}`;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', (error) =>
        reject(
          new McpdError(
            'MCPD_GATEWAY_LISTEN_FAILED',
            `The HTTP gateway cannot listen on ${this.options.host}:${this.options.port} (gateway.http): ${error.message}`,
            { cause: error },
          ),
        ),
      );
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.removeAllListeners('error');
        this.http.on('error', (error) => this.options.log.warn(`HTTP gateway: ${error.message}`));
        resolve();
      });
    });
    this.options.log.info(`MCP over Streamable HTTP at ${this.url}/mcp and ${this.url}/servers/NAME/mcp`);
  }

  describe(): FrontStatus {
    return { name: 'mcp-http', address: this.url, sessions: this.sessions.size };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweep);
      await Promise.allSettled([...this.sessions.values()].map((s) => s.session.close()));
      this.sessions.clear();
      await this.modern.close();
      this.http.closeAllConnections();
      await new Promise<void>((resolve) => this.http.close(() => resolve()));
    })();
    return this.closing;
  }

  /** The port listened on, once known (it may have been 0): read once, not per request (a syscall). */
  private listening: number | undefined;

  private port(): number {
    return (this.listening ??= (this.http.address() as AddressInfo | null)?.port) ?? this.options.port;
  }

  private policy: DoorPolicy | undefined;

  /** Who may come in (Host, Origin, the token): fixed once the port is known. */
  private door(): DoorPolicy {
    if (this.policy) return this.policy;
    const policy = DOORS.gateway(this.options.host, this.port(), this.options.token, isLoopbackHost(this.options.host));
    if (this.listening !== undefined) this.policy = policy;
    return policy;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = pathOf(req.url);
      // The dashboard has its own guard (a cookie, not the bearer token).
      if (this.options.ui?.owns(path)) return await this.options.ui.handle(req, res, this.port());
      const stranger = this.foreign.get(req.socket);
      if (stranger !== undefined) {
        const who = stranger === -1 ? 'a connection whose user cannot be told' : `another user (uid ${stranger})`;
        this.options.log.warn(
          `HTTP gateway: refused ${who}: it serves uid ${process.getuid?.()} only; gateway.http.token lets others in with the token`,
        );
        return this.refuse(
          req,
          res,
          403,
          `Forbidden: ${who} may not use this gateway (it serves the user who runs mcpd; set gateway.http.token for others)`,
        );
      }
      // Host and Origin against DNS rebinding (Host only on loopback); the bearer token when set.
      const refused = refusal(req.headers, this.door());
      if (refused) return this.refuse(req, res, refused.status, refusalText(refused), refused.headers);
      if (this.closing) return this.reply(res, 503, 'Daemon stopping');
      const declared = Number(req.headers['content-length']);
      if (declared > MAX_BODY_BYTES) return this.refuse(req, res, 413, `Request body over ${MAX_BODY_BYTES / (1024 * 1024)} MiB`);
      const spec = parseViewPath(path);
      if (!spec) return this.reply(res, 404, 'Not found: MCP is at /mcp and /servers/NAME/mcp');
      const body = req.method === 'POST' ? await this.readBody(req, res) : undefined;
      if (body === null) return; // already answered (too large, not JSON)
      // The 2026-07-28 era: no session, everything in the request itself.
      const era = requestEra(req, body);
      if (era !== 'legacy') return await this.serveModern(path, spec, req, res, body, era === 'modern');
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const known = this.sessions.get(sessionId);
        if (!known || known.path !== path) return this.reply(res, 404, 'Unknown or expired session: initialize again', undefined, -32001);
        known.lastSeen = Date.now();
        await known.transport.handleRequest(req, res, body);
        return;
      }
      if (req.method !== 'POST') return this.reply(res, 400, 'Bad request: no Mcp-Session-Id (initialize first with a POST)');
      const view = new EndpointView(spec, this.ports);
      try {
        view.check();
      } catch (error) {
        return this.reply(res, 404, errorMessage(error));
      }
      const client = clientName(body);
      if (!this.makeRoom(client))
        return this.reply(res, 503, `Too many MCP sessions (limit ${MAX_SESSIONS}), and every one has work in flight`);
      await this.openSession(path, view, req, res, body, client);
    } catch (error) {
      this.options.log.warn(`HTTP gateway: ${req.method} ${req.url}: ${errorMessage(error)}`);
      if (!res.headersSent) this.reply(res, 500, `Internal error: ${errorMessage(error)}`);
      else res.end();
    }
  }

  /** The views of the 2026 path's endpoints (a view holds nothing but its spec: the same one serves every request). */
  private readonly views = new Map<string, EndpointView>();

  private async serveModern(
    path: string,
    spec: ViewSpec,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    wellFormed: boolean,
  ): Promise<void> {
    let view = this.views.get(path);
    if (!view) {
      view = new EndpointView(spec, this.ports);
      if (this.views.size < 1_000) this.views.set(path, view);
    }
    try {
      view.check();
    } catch (error) {
      return this.reply(res, 404, errorMessage(error));
    }
    // (Lazy: a signal is made only for the SDK's path, which takes nothing else: lazy-abort.ts.)
    const gone = new LazyAbort();
    // Only a client that left before the answer was sent cancels (an abort costs a DOMException).
    res.once('close', () => {
      if (!res.writableFinished) gone.abort(new Error('the client went away'));
    });
    const quick = wellFormed ? quickCallOf(req, body) : undefined;
    if (quick) {
      const answer = quickAnswer(quick.id, await this.modern.call(view, quick, gone), SERVER_INFO);
      if (!res.destroyed) res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(answer.body);
      return;
    }
    const response = await this.modern.handler(path, view).fetch(webRequest(req, gone.signal), { parsedBody: body });
    await sendWebResponse(res, response);
  }

  private async openSession(
    path: string,
    view: EndpointView,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    client: string,
  ): Promise<void> {
    let entry: HttpSession | undefined;
    const transport = new HttpServerTransport({
      eventStore: new BoundedEventStore(),
      onsessioninitialized: (id) => {
        if (entry) this.sessions.set(id, entry);
      },
      streams: {
        opened: (stream) => {
          this.streams.set(stream, { res: stream, unread: () => stream.writableLength, stall: undefined });
          stream.once('close', () => this.streams.delete(stream));
        },
        admit: (stream, bytes) => {
          const reader = this.streams.get(stream);
          return reader === undefined || this.readers.admit(reader, bytes);
        },
      },
    });
    const session = await createMcpSession(this.ports, view, transport, {
      front: 'mcp-http',
      onClosed: () => {
        if (transport.sessionId) this.sessions.delete(transport.sessionId);
      },
    });
    entry = { transport, session, path, lastSeen: Date.now(), client };
    await transport.handleRequest(req, res, body);
    // Not an initialize (or it failed): no session was made, so nothing keeps this one.
    if (!transport.sessionId) await session.close();
  }

  /** Closes sessions no request touched for SESSION_IDLE_MS (a client that vanished). */
  private closeIdle(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen < SESSION_IDLE_MS || s.transport.inFlight > 0) continue;
      this.sessions.delete(id);
      void s.session.close();
    }
  }

  /**
   * Room for a new session of `client`: past its own limit, its own idlest session goes; past
   * the front's, the idlest of all. A session with a request in flight is never closed for
   * room; false when there is none to close.
   */
  private makeRoom(client: string): boolean {
    const idlest = (of: HttpSession[]) => of.filter((s) => s.transport.inFlight === 0).sort((a, b) => a.lastSeen - b.lastSeen)[0];
    const all = [...this.sessions.values()];
    const own = all.filter((s) => s.client === client);
    const victim = own.length >= MAX_SESSIONS_PER_CLIENT ? idlest(own) : all.length >= MAX_SESSIONS ? idlest(all) : undefined;
    if (victim) {
      for (const [id, s] of this.sessions) if (s === victim) this.sessions.delete(id);
      this.options.log.info(`HTTP gateway: closed an idle session of ${victim.client} to make room`);
      void victim.session.close();
    }
    return this.sessions.size < MAX_SESSIONS && own.length - (victim?.client === client ? 1 : 0) < MAX_SESSIONS_PER_CLIENT;
  }

  /**
   * A refusal that reads no more of the request: the answer, then the connection closes (a
   * client sending 100 MB without a token is not read to the end).
   */
  private refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    this.reply(res, status, message, { ...headers, Connection: 'close' });
    res.once('finish', () => req.destroy());
  }

  /** The JSON body, or null once an error was answered. */
  private async readBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    // Events, not `for await`: the async iterator costs more than the read for a small body.
    const text = await new Promise<string | null>((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.removeAllListeners('data');
          this.reply(res, 413, `Request body over ${MAX_BODY_BYTES / (1024 * 1024)} MiB`);
          req.destroy();
          resolve(null);
        } else chunks.push(chunk);
      });
      req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
      req.once('error', () => resolve(null));
      req.once('close', () => resolve(null));
    });
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch {
      this.reply(res, 400, 'Parse error: the body is not JSON', undefined, -32700);
      return null;
    }
  }

  /** A JSON-RPC error body with an HTTP status, as the Streamable HTTP transport answers. */
  private reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
    res
      .writeHead(status, { 'Content-Type': 'application/json', ...headers })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
  }
}

/** The client's name in an initialize request (what it calls itself), for the per-client limit. */
function clientName(body: unknown): string {
  const params = (body as { params?: { clientInfo?: { name?: unknown } } } | undefined)?.params;
  const name = params?.clientInfo?.name;
  return typeof name === 'string' ? name : '';
}

/**
 * A request's path as a URL parser gives it: taken as it is when nothing in it needs parsing
 * (no query, fragment, percent-escape or dot segment: a host's every request), parsed otherwise.
 */
function pathOf(url: string | undefined): string {
  if (url !== undefined && url.startsWith('/') && !/[?#%.\\]/.test(url)) return url;
  return new URL(url ?? '/', 'http://localhost').pathname;
}
