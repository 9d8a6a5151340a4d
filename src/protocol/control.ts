/**
 * The control protocol: JSON-RPC 2.0 over a WebSocket on MCPD_HOME/mcpd.sock.
 * Documented in docs/control-protocol.md. No dependencies: the thin CLI imports this.
 */
import type {
  AppViewEntry,
  AuthStatus,
  ApprovalDecision,
  CatalogueChangedEvent,
  ChatEvent,
  ChatSessionSummary,
  ChatTurnResult,
  ConfigEditResult,
  ConfigServerEdit,
  DaemonStatus,
  LogEntry,
  McpClientStatus,
  PromptEntry,
  ReloadResult,
  ResourceEntry,
  ServerStateEvent,
  ServerStatus,
  ToolEntry,
} from './types.js';
import type { CallToolResultJson } from './calls.js';

export type { CallToolResultJson };

export const PROTOCOL_VERSION = 1;
/** Largest message the daemon accepts from a client. */
export const MAX_INCOMING_MESSAGE_BYTES = 1024 * 1024;
/** Unread output that drops a client at once (one result of up to 64 MiB still passes). */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/**
 * A client with more than this unread is watched: if it then reads less than
 * MIN_DRAIN_BYTES within STALL_MS, it has stopped reading and is dropped. A client that keeps
 * reading, however much is in flight for it, is never dropped for being busy.
 */
export const SOFT_BUFFERED_BYTES = 4 * 1024 * 1024;
export const STALL_MS = 5_000;
export const MIN_DRAIN_BYTES = 256 * 1024;
/** Unread output across all clients; past it the client furthest behind is dropped. */
export const MAX_TOTAL_BUFFERED_BYTES = 256 * 1024 * 1024;
/**
 * Connections at once. At the limit the oldest idle one (no hello yet, or no subscription, chat
 * or request in flight) is closed to make room, so a fresh client is never locked out by idlers.
 */
export const MAX_CONNECTIONS = 64;
/** Requests one connection may have in flight; past it a request is refused at once (memory stays bounded). */
export const MAX_REQUESTS_IN_FLIGHT = 256;
/** From TCP accept to the WebSocket upgrade. */
export const HANDSHAKE_TIMEOUT_MS = 5_000;
/** From the upgrade to a successful `hello`. */
export const HELLO_TIMEOUT_MS = 5_000;
/** A connection with no subscription, chat or request in flight is closed after this. */
export const IDLE_TIMEOUT_MS = 10 * 60_000;

export const JSONRPC_ERRORS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** An mcpd error: `data.code` holds its stable MCPD_* code. */
  MCPD_ERROR: -32000,
} as const;

export interface Methods {
  /** The daemon names its version and the events `events.subscribe` takes. */
  hello: {
    params: { protocolVersion: number; client?: string };
    result: { protocolVersion: number; daemon: { version: string; pid: number }; events: readonly SubscribableEvent[] };
  };
  status: { params: Record<string, never>; result: DaemonStatus };
  'servers.list': { params: Record<string, never>; result: { servers: ServerStatus[] } };
  'servers.start': { params: { name: string }; result: { server: ServerStatus } };
  'servers.stop': { params: { name: string }; result: { server: ServerStatus } };
  'servers.restart': { params: { name: string }; result: { server: ServerStatus } };
  /**
   * Starts the server a ticket names (a 0600 file the client wrote in MCPD_HOME/ephemeral: the
   * command never travels in a message), for the chat sessions this connection sends to: no other
   * chat and no MCP client sees its tools, and it stops when this connection closes. Resolves once it runs.
   */
  'servers.attach': { params: { ticket: string }; result: { server: ServerStatus; tools: ToolEntry[] } };
  /** What the running config says for the server, with env values, header values and secrets masked. */
  'servers.config': { params: { name: string }; result: { config: Record<string, unknown> } };
  /** The config file's entry for a server as written (`${VAR}`s kept, what looks secret masked), for editing. */
  'config.server': { params: { name: string }; result: { file: string; entry: Record<string, unknown> } };
  /** One edit of the config file's servers, comments kept, then a reload; a new or changed server that does not start is taken back (the file as it was). */
  'config.edit': { params: ConfigServerEdit; result: ConfigEditResult };
  /** The dashboard's login URL (its port opens if needed); see mcpd ui. */
  'ui.open': { params: Record<string, never>; result: { url: string } };
  'tools.list': { params: { server?: string }; result: { tools: ToolEntry[] } };
  'tools.call': {
    params: {
      name: string;
      arguments?: Record<string, unknown>;
      timeoutMs?: number;
      progressToken?: string;
      canElicit?: boolean;
      canSample?: boolean;
      /** The caller shows Apps itself (the dashboard): no link line is added to the content. */
      showsApps?: boolean;
    };
    /** `app`: the call's tool has an App; its view id and the dashboard link that shows it. */
    result: CallToolResultJson & { app?: { view: string; url: string } };
  };
  /** A call's App view (its tool, input and result), while it is kept (a day, this daemon's life). */
  'apps.view': { params: { view: string }; result: { view: AppViewEntry } };
  /** The App's document (its ui:// resource, checked: HTML, within the size limit) and what the sandbox applies. */
  'apps.document': { params: { view: string; parent: string }; result: AppDocument };
  /** A tool call the App of a view makes, by its server's own tool name (caller `app`). */
  'apps.call': {
    params: { view: string; name: string; arguments?: Record<string, unknown> };
    result: CallToolResultJson;
  };
  /** A resource of the App's own server, read for the App. */
  'apps.read': { params: { view: string; uri: string }; result: { contents: Array<Record<string, unknown>> } };
  /** A log message of the App, into its server's log (mcpd logs NAME). */
  'apps.log': { params: { view: string; level?: string; data: unknown }; result: Record<string, never> };
  /** The App's message for the chat its call came from: sent as the person's next message there. */
  'apps.message': { params: { view: string; text: string }; result: { sessionId: string } };
  'resources.list': { params: { server?: string }; result: { resources: ResourceEntry[] } };
  'resources.read': { params: { uri: string; server?: string }; result: { contents: Array<Record<string, unknown>> } };
  'prompts.list': { params: { server?: string }; result: { prompts: PromptEntry[] } };
  'prompts.get': {
    params: { name: string; arguments?: Record<string, string> };
    result: { description?: string; messages: Array<Record<string, unknown>> };
  };
  'logs.read': { params: { server?: string; lines?: number }; result: { entries: LogEntry[] } };
  'events.subscribe': { params: { events: EventName[] }; result: { subscribed: EventName[] } };
  'events.unsubscribe': { params: { events: EventName[] }; result: { subscribed: EventName[] } };
  'config.reload': { params: Record<string, never>; result: ReloadResult };
  'daemon.stop': { params: Record<string, never>; result: { stopping: true } };
  'chat.new': { params: { model?: string }; result: ChatSessionSummary };
  'chat.send': { params: { sessionId?: string; message: string; model?: string; canApprove?: boolean }; result: ChatTurnResult };
  'chat.cancel': { params: { sessionId: string }; result: { cancelled: boolean } };
  'chat.attach': {
    params: { sessionId: string };
    result: { session: ChatSessionSummary; runningTurnId: string | null; partialText: string };
  };
  'chat.approve': { params: { requestId: string; decision: ApprovalDecision }; result: { ok: boolean } };
  /** The person's answer to an `elicitation_request` chat event (an MCP ElicitResult). */
  'chat.answer': {
    params: {
      requestId: string;
      result: { action: 'accept'; content: Record<string, unknown> } | { action: 'decline' } | { action: 'cancel' };
    };
    result: { ok: boolean };
  };
  'auth.list': { params: Record<string, never>; result: { servers: AuthStatus[] } };
  /** Starts a sign-in: the URL to send the person to (or signedIn, when a token refresh was enough). */
  'auth.login': { params: { server: string }; result: { authorizationUrl?: string; signedIn?: boolean } };
  /** Waits until the sign-in started with auth.login completes (up to 5 minutes). */
  'auth.wait': { params: { server: string }; result: { server: ServerStatus } };
  'auth.logout': { params: { server: string }; result: { server: ServerStatus } };
  'chat.sessions': { params: Record<string, never>; result: { sessions: ChatSessionSummary[] } };
  'chat.history': {
    params: { sessionId: string };
    result: { session: ChatSessionSummary; messages: { role: 'user' | 'assistant'; text: string }[] };
  };
  'chat.setModel': { params: { sessionId: string; model: string }; result: ChatSessionSummary };
}

/** A view's App, ready for the sandbox: its HTML and what its resource's `_meta.ui` declares. */
export interface AppDocument {
  html: string;
  csp?: Record<string, unknown>;
  permissions?: Record<string, unknown>;
  prefersBorder?: boolean;
  /** The dashboard's sandbox page for it (another origin than the dashboard's). */
  sandbox: string;
  /** What mcpd left out of the declared CSP (it named the dashboard's own address), for the page to say. */
  dropped: string[];
}

/** What a connection opened by an App view's own link may do: that view's methods, nothing else. */
export const APP_SCOPED_METHODS = ['hello', 'apps.view', 'apps.document', 'apps.call', 'apps.read', 'apps.log', 'apps.message'] as const;

export type MethodName = keyof Methods;
export type ParamsOf<M extends MethodName> = Methods[M]['params'];
export type ResultOf<M extends MethodName> = Methods[M]['result'];

/** Server → client notifications (after `events.subscribe`). */
export interface Events {
  'server:state': ServerStateEvent;
  'catalogue:changed': CatalogueChangedEvent;
  'log:line': LogEntry;
  'config:reloaded': ReloadResult;
  'daemon:stopping': { reason: string };
  /** Once, when the daemon is ready (every server's first start settled): its status then. */
  'daemon:ready': DaemonStatus;
  /** An MCP client initialized through the bridge or the HTTP gateway, or went away. */
  'client:connected': McpClientStatus;
  'client:disconnected': McpClientStatus;
  /** A server said a resource changed that an MCP client subscribed to. */
  'resource:updated': { server: string; uri: string };
  /** Sent to the clients attached to a chat session (no subscription needed). */
  'chat:event': ChatEvent;
  /** Progress of a `tools.call` that gave a `progressToken`, to its connection only. */
  'call:progress': { progressToken: string; progress: number; total?: number; message?: string };
}

export type EventName = keyof Events;
/** The events `events.subscribe` takes (chat events come by attaching to a session instead). */
export const EVENT_NAMES = [
  'server:state',
  'catalogue:changed',
  'log:line',
  'config:reloaded',
  'daemon:stopping',
  'daemon:ready',
  'client:connected',
  'client:disconnected',
] as const satisfies readonly EventName[];
export type SubscribableEvent = (typeof EVENT_NAMES)[number];

/**
 * Daemon → client request, during a `tools.call` with `canElicit: true`: the server asks the
 * person something (MCP `elicitation/create` params); the answer is an MCP `ElicitResult`
 * (`{ action: "accept", content } | { action: "decline" } | { action: "cancel" }`).
 */
export const ELICIT_REQUEST = 'call.elicit';

/**
 * Daemon → client request, during a `tools.call` with `canSample: true` when `chat.sampling` is
 * `ask`: may the server's sampling request go to Claude? The answer is `{ decision: "yes" | "no" }`;
 * the daemon then asks Claude itself.
 */
export const SAMPLE_REQUEST = 'call.sample';

export interface SampleRequestParams {
  server: string;
  tool: string;
  /** The request's last message, shortened. */
  preview: string;
  systemPrompt?: string;
  maxTokens: number;
}

/**
 * Daemon → client request, during an `apps.call` whose tool chat.approval asks about: may the
 * App call it? Params `{ view, tool, server, arguments }`; the answer is `{ decision: "yes" | "no" | "always" }`
 * (`always`: for this App view from now on).
 */
export const APP_APPROVE_REQUEST = 'app.approve';

/** Client → server notification: cancel the request of this id (its tool call is cancelled at the server). */
export const CANCEL_NOTIFICATION = '$/cancel';
