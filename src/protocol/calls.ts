/**
 * The call vocabulary: what a call to an upstream server is, whoever makes it (the control
 * socket, chat, an MCP client) and whatever carries it. Types only, so every part may import it.
 */
import type {
  CompleteRequest,
  CreateMessageRequest,
  CreateMessageResult,
  ElicitRequest,
  ElicitResult,
  ListResourceTemplatesRequest,
  LoggingLevel,
  LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import type { Cancellation } from '../hotpath/lazy-abort.js';

/** A tool's result as mcpd relays it: the server's object, content always a list. */
export interface CallToolResultJson {
  content: Array<Record<string, unknown> & { type: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  [key: string]: unknown;
}

/** Who made a call (plugins see it); `app`: an MCP App in the dashboard, calling its own server. */
export type Caller = 'chat' | 'cli' | 'mcp-client' | 'app';

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

export interface CallOptions {
  /** A control request's LazyAbort, or any AbortSignal. */
  signal?: Cancellation | undefined;
  timeoutMs?: number | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
  /**
   * How the caller answers what the server asks while this call runs (elicitation, sampling).
   * Without it, such requests are declined.
   */
  serverRequests?: ServerRequestHandler | undefined;
  /**
   * Set by a caller of the 2026-07-28 era, which answers a server's questions itself: a server of
   * that era then gives its input-required result back as it is (not fulfilled by mcpd), and a
   * retry carries the caller's answers and the server's state here.
   */
  input?: InputRound | undefined;
  /**
   * The least severe log message the caller wants from the server (a 2025 session's
   * `logging/setLevel`, a 2026 request's `_meta` logLevel): a server of the 2026 era is asked per
   * request, since it has no session to remember it.
   */
  logLevel?: LoggingLevel | undefined;
  /** The server's log messages while this call runs, for a caller that takes them per request (2026-07-28). */
  onLog?: ((message: LogMessage) => void) | undefined;
  /** The server is kept from an idle stop until this settles (a chat turn that called it). */
  heldUntil?: Promise<unknown> | undefined;
  /**
   * What the caller declared it can do (a 2025 session's client capabilities), told to a server
   * of the 2026 era with each request, so it answers as it would that client (an App or text).
   */
  clientCapabilities?: Record<string, unknown> | undefined;
}

/** A server's log message, as `notifications/message` carries it. */
export type LogMessage = LoggingMessageNotification['params'];

/** One round of a call that asks its caller (2026-07-28): the answers, and the server's state. */
export interface InputRound {
  inputResponses?: Record<string, unknown> | undefined;
  requestState?: string | undefined;
  /** What the caller declared it can answer (elicitation, sampling, roots). */
  clientCapabilities?: Record<string, unknown> | undefined;
}

/** A call as it enters the router: who makes it, for the plugins. */
export interface RoutedCallOptions extends CallOptions {
  caller: Caller;
  sessionId?: string | undefined;
  /** The MCP client's name, for calls that came through an MCP front. */
  client?: string | undefined;
  /** For caller `app`: the server whose App makes the call (it may call only that server's tools). */
  app?: string | undefined;
  /** The caller shows Apps itself (an MCP host that declared the UI extension): app-only tools are its to call. */
  showsApps?: boolean | undefined;
  /** Told the id of the App view kept for this call's result (a tool with an App, `apps.view`). */
  onAppView?: ((id: string) => void) | undefined;
}

/** A caller's answers to a server's requests; undefined for a kind it cannot take. */
export interface ServerRequestHandler {
  elicit?: (params: ElicitRequest['params'], signal: AbortSignal, server: string) => Promise<ElicitResult>;
  sample?: (params: CreateMessageRequest['params'], signal: AbortSignal, server: string) => Promise<CreateMessageResult>;
}

export type ServerRequestKind = keyof ServerRequestHandler;

/**
 * What an upstream connection asks when its server sends a request of its own (roots,
 * elicitation, sampling): routing/server-requests.ts answers, for the caller that caused it.
 */
export interface UpstreamRequests {
  roots(): { uri: string; name?: string }[];
  elicit(params: ElicitRequest['params'], signal: AbortSignal): Promise<ElicitResult>;
  sample(params: CreateMessageRequest['params'], signal: AbortSignal): Promise<CreateMessageResult>;
}

/** Requests the catalogue does not model, passed to one running server as they are. */
export type ForwardedRequest =
  | { method: 'logging/setLevel'; params: { level: LoggingLevel } }
  | { method: 'resources/subscribe' | 'resources/unsubscribe'; params: { uri: string } }
  | { method: 'resources/templates/list'; params: NonNullable<ListResourceTemplatesRequest['params']> }
  | { method: 'completion/complete'; params: CompleteRequest['params'] };
