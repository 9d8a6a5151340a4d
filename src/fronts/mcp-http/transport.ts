/**
 * The server side of Streamable HTTP for one MCP session, on node:http directly.
 *
 * Why not the SDK's transport: it turns every request into a web Request and every answer into
 * a web stream (through @hono/node-server), which costs about half a millisecond per call and
 * makes every answer an SSE stream the client must parse. Here a POST's answer is plain JSON
 * when the responses are all the server sends for it, and becomes an SSE stream at the moment
 * anything else has to go first (progress, a log message, an elicitation): the spec lets the
 * server choose per request, and clients accept both.
 *
 * What it does: POST (one message or a batch; 202 for notifications and responses), GET (the
 * session's stream for messages not tied to a request, or with `Last-Event-ID` the rest of an
 * SSE stream the client lost), DELETE (ends the session), the Accept/Content-Type/protocol
 * version checks, `Mcp-Session-Id`. Host, Origin, tokens and session lookup are the front's.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { messageText } from '../../hotpath/raw-json.js';
import type { BoundedEventStore } from './event-store.js';

const MAX_BATCH = 1_000;
const STANDALONE = '_GET_stream';
const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/** One POST that carried requests, until every one of them is answered. */
interface Exchange {
  /** Request ids still unanswered. */
  pending: Set<RequestId>;
  batch: boolean;
  /** The POST's response while it is open (JSON not yet sent, or the SSE stream). */
  res: ServerResponse | undefined;
  /** Responses gathered for a JSON answer. */
  responses: JSONRPCMessage[];
  /** Set once the answer is an SSE stream: its id, for the event store and resumption. */
  streamId: string | undefined;
}

export interface HttpServerTransportOptions {
  eventStore: BoundedEventStore;
  onsessioninitialized: (sessionId: string) => void;
  /** Told of every SSE stream opened (and of its end), so the front can bound what its readers leave unread. */
  streams?: {
    opened(res: ServerResponse): void;
    /** Whether `bytes` more may be written to it now (false: it was dropped for not reading). */
    admit(res: ServerResponse, bytes: number): boolean;
  };
}

type HttpError = { status: number; code: number; message: string; headers?: Record<string, string> };

function isRequest(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId; method: string } {
  return 'method' in m && 'id' in m && m.id !== undefined;
}

function isResponse(m: JSONRPCMessage): m is JSONRPCMessage & { id: RequestId } {
  return !('method' in m) && 'id' in m && ('result' in m || 'error' in m);
}

/** A shape check, not a schema parse: the SDK's Protocol validates what it handles. */
function isMessage(value: unknown): value is JSONRPCMessage {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const m = value as Record<string, unknown>;
  if (m['jsonrpc'] !== '2.0') return false;
  if (typeof m['method'] === 'string') return m['id'] === undefined || typeof m['id'] === 'string' || typeof m['id'] === 'number';
  return (typeof m['id'] === 'string' || typeof m['id'] === 'number') && ('result' in m || 'error' in m);
}

function sseEvent(eventId: string | undefined, message: JSONRPCMessage): string {
  return `event: message\n${eventId ? `id: ${eventId}\n` : ''}data: ${messageText(message)}\n\n`;
}

export class HttpServerTransport implements Transport {
  sessionId: string | undefined;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;

  private readonly byRequest = new Map<RequestId, Exchange>();
  private readonly byStream = new Map<string, Exchange>();
  /** Open SSE connections by stream id (POST streams, their resumptions, the GET stream). */
  private readonly connections = new Map<string, ServerResponse>();
  private closed = false;

  constructor(private readonly options: HttpServerTransportOptions) {}

  async start(): Promise<void> {}

  /** Answers one HTTP request of this session; `body` is the parsed JSON of a POST. */
  async handleRequest(req: IncomingMessage, res: ServerResponse, body?: unknown): Promise<void> {
    const refusal = this.closed ? { status: 404, code: -32001, message: 'Session not found' } : this.route(req, res, body);
    if (refusal) {
      this.onerror?.(new Error(refusal.message));
      res
        .writeHead(refusal.status, { 'Content-Type': 'application/json', ...refusal.headers })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: refusal.code, message: refusal.message }, id: null }));
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, body: unknown): HttpError | undefined {
    switch (req.method) {
      case 'POST':
        return this.post(req, res, body);
      case 'GET':
        return this.get(req, res);
      case 'DELETE':
        return this.delete(req, res);
      default:
        return { status: 405, code: -32000, message: 'Method not allowed.', headers: { Allow: 'GET, POST, DELETE' } };
    }
  }

  private checkVersion(req: IncomingMessage): HttpError | undefined {
    const version = req.headers['mcp-protocol-version'];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(String(version))) {
      return {
        status: 400,
        code: -32000,
        message: `Bad Request: Unsupported protocol version: ${String(version)} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
      };
    }
    return undefined;
  }

  private post(req: IncomingMessage, res: ServerResponse, body: unknown): HttpError | undefined {
    const accept = req.headers.accept ?? '';
    if (!accept.includes('application/json') || !accept.includes('text/event-stream')) {
      return { status: 406, code: -32000, message: 'Not Acceptable: Client must accept both application/json and text/event-stream' };
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType !== 'application/json')
      return { status: 415, code: -32000, message: 'Unsupported Media Type: Content-Type must be application/json' };
    const batch = Array.isArray(body);
    const messages: unknown[] = batch ? body : [body];
    if (messages.length === 0 || messages.length > MAX_BATCH)
      return { status: 400, code: -32600, message: `Invalid Request: a batch holds 1 to ${MAX_BATCH} messages` };
    if (!messages.every(isMessage)) return { status: 400, code: -32700, message: 'Parse error: Invalid JSON-RPC message' };
    const valid = messages;
    const initialize = valid.some((m) => isRequest(m) && m.method === 'initialize');
    if (initialize) {
      if (this.sessionId !== undefined) return { status: 400, code: -32600, message: 'Invalid Request: Server already initialized' };
      if (valid.length > 1) return { status: 400, code: -32600, message: 'Invalid Request: Only one initialization request is allowed' };
      this.sessionId = randomUUID();
      this.options.onsessioninitialized(this.sessionId);
    } else {
      if (this.sessionId === undefined) return { status: 400, code: -32000, message: 'Bad Request: Server not initialized' };
      const versionError = this.checkVersion(req);
      if (versionError) return versionError;
    }
    const extra: MessageExtraInfo = { requestInfo: { headers: req.headers } };
    const requests = valid.filter(isRequest);
    if (requests.length === 0) {
      res.writeHead(202).end();
      for (const message of valid) this.onmessage?.(message, extra);
      return undefined;
    }
    const exchange: Exchange = { pending: new Set(requests.map((r) => r.id)), batch, res, responses: [], streamId: undefined };
    for (const request of requests) this.byRequest.set(request.id, exchange);
    // The client went away: nothing more is written to it. Requests go on (and are
    // stored for resumption once the answer became a stream).
    res.on('close', () => {
      if (exchange.res !== res) return;
      exchange.res = undefined;
      if (exchange.streamId !== undefined && this.connections.get(exchange.streamId) === res) this.connections.delete(exchange.streamId);
    });
    for (const message of valid) this.onmessage?.(message, extra);
    return undefined;
  }

  private get(req: IncomingMessage, res: ServerResponse): HttpError | undefined {
    if (!(req.headers.accept ?? '').includes('text/event-stream'))
      return { status: 406, code: -32000, message: 'Not Acceptable: Client must accept text/event-stream' };
    if (this.sessionId === undefined) return { status: 400, code: -32000, message: 'Bad Request: Server not initialized' };
    const versionError = this.checkVersion(req);
    if (versionError) return versionError;
    const lastEventId = req.headers['last-event-id'];
    if (typeof lastEventId === 'string' && lastEventId !== '') return this.resume(lastEventId, res);
    if (this.connections.has(STANDALONE))
      return { status: 409, code: -32000, message: 'Conflict: Only one SSE stream is allowed per session' };
    this.openStream(STANDALONE, res);
    return undefined;
  }

  /** The rest of a stream the client lost: what it missed, then what comes next. */
  private resume(lastEventId: string, res: ServerResponse): HttpError | undefined {
    const streamId = this.options.eventStore.streamOf(lastEventId);
    if (streamId === undefined)
      return {
        status: 404,
        code: -32000,
        message: `Not Found: no event ${lastEventId} to resume after (it is too old, or of another session)`,
      };
    if (this.connections.has(streamId)) return { status: 409, code: -32000, message: 'Conflict: Stream already has an active connection' };
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId! });
    this.options.streams?.opened(res);
    for (const event of this.options.eventStore.eventsAfter(lastEventId)) this.write(res, sseEvent(event.id, event.message));
    const exchange = this.byStream.get(streamId);
    // A POST stream whose answers were all replayed is done.
    if (streamId !== STANDALONE && !exchange) {
      res.end();
      return undefined;
    }
    this.connections.set(streamId, res);
    if (exchange) exchange.res = res;
    res.on('close', () => {
      if (this.connections.get(streamId) === res) this.connections.delete(streamId);
      if (exchange?.res === res) exchange.res = undefined;
    });
    return undefined;
  }

  private openStream(streamId: string, res: ServerResponse): void {
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId! });
    res.flushHeaders();
    this.options.streams?.opened(res);
    this.connections.set(streamId, res);
    res.on('close', () => {
      if (this.connections.get(streamId) === res) this.connections.delete(streamId);
    });
  }

  private delete(req: IncomingMessage, res: ServerResponse): HttpError | undefined {
    const versionError = this.checkVersion(req);
    if (versionError) return versionError;
    res.writeHead(200).end();
    void this.close();
    return undefined;
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) return;
    const response = isResponse(message);
    const requestId = response ? message.id : options?.relatedRequestId;
    const exchange = requestId === undefined ? undefined : this.byRequest.get(requestId);
    if (!exchange) {
      // Not tied to a live request: the session's GET stream, when the client keeps one open.
      if (response) return;
      const stream = this.connections.get(STANDALONE);
      if (stream) this.write(stream, sseEvent(this.options.eventStore.store(STANDALONE, message), message));
      return;
    }
    if (!response && exchange.streamId === undefined) this.becomeStream(exchange);
    if (exchange.streamId !== undefined) {
      const eventId = this.options.eventStore.store(exchange.streamId, message);
      if (exchange.res) this.write(exchange.res, sseEvent(eventId, message));
    } else exchange.responses.push(message);
    if (!response) return;
    exchange.pending.delete(message.id);
    this.byRequest.delete(message.id);
    if (exchange.pending.size > 0) return;
    // Every request of the POST is answered.
    if (exchange.streamId !== undefined) {
      this.byStream.delete(exchange.streamId);
      this.connections.delete(exchange.streamId);
      exchange.res?.end();
    } else if (exchange.res) {
      // A result that carries its server's text goes out as that text (hotpath/raw-json.ts).
      const body = exchange.batch ? `[${exchange.responses.map(messageText).join(',')}]` : messageText(exchange.responses[0]!);
      exchange.res
        .writeHead(200, { 'Content-Type': 'application/json', ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}) })
        .end(body);
    }
    exchange.res = undefined;
  }

  /** Something other than a response goes first: the POST's answer becomes an SSE stream. */
  private becomeStream(exchange: Exchange): void {
    const streamId = randomUUID();
    exchange.streamId = streamId;
    this.byStream.set(streamId, exchange);
    const res = exchange.res;
    if (res) {
      res.writeHead(200, { ...SSE_HEADERS, ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}) });
      this.connections.set(streamId, res);
      this.options.streams?.opened(res);
    }
    // Responses gathered for a JSON answer (a batch's first ones) go first.
    for (const earlier of exchange.responses) {
      const text = sseEvent(this.options.eventStore.store(streamId, earlier), earlier);
      if (res) this.write(res, text);
    }
    exchange.responses = [];
  }

  /**
   * One event to an SSE stream, unless its client stopped reading (then it is dropped: the events
   * stay in the store, and the client may resume with Last-Event-ID).
   */
  private write(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    if (this.options.streams && !this.options.streams.admit(res, text.length)) return;
    res.write(text);
  }

  /** Requests of this session still waiting for their answer: a session with any is never evicted. */
  get inFlight(): number {
    return this.byRequest.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const res of this.connections.values()) res.end();
    for (const exchange of new Set(this.byRequest.values()))
      if (exchange.res && !exchange.res.headersSent)
        exchange.res
          .writeHead(404, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session closed' }, id: null }));
    this.connections.clear();
    this.byRequest.clear();
    this.byStream.clear();
    this.onclose?.();
  }
}
