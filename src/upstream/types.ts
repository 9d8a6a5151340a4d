/**
 * One live connection to one upstream server, whatever carries it (a local process over stdio,
 * a remote server over HTTP): what the supervisor uses. Types only; open.ts makes them.
 */
import type {
  CallToolResult,
  GetPromptResult,
  LoggingLevel,
  Prompt,
  ReadResourceResult,
  Resource,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { LogStore } from '../logs/store.js';
import type { Cancellation } from '../hotpath/lazy-abort.js';
import type { ForwardedRequest, InputRound, LogMessage, Progress, ServerRequestHandler, UpstreamRequests } from '../protocol/calls.js';
import type { AuthStore } from './http/auth/store.js';
import type { ChildRegistry } from './stdio/reaper.js';
import type { ExitInfo } from './stdio/process.js';

export type ListKind = 'tools' | 'resources' | 'prompts';

export interface ServerLists {
  tools: Tool[];
  resources: Resource[];
  prompts: Prompt[];
}

/** How a server was reached: its own process, Streamable HTTP, or the legacy SSE transport. */
export type UpstreamTransport = 'stdio' | 'streamable-http' | 'sse';

export interface UpstreamHooks {
  /**
   * The connection ended on its own: the process exited (`exit` set), or for a local server its
   * stdout closed while it still ran, or the remote connection closed (`reason` says which).
   */
  onClosed(exit: ExitInfo | null, reason?: string): void;
  /** The server said one of its lists changed. */
  onListChanged(kind: ListKind): void;
  /** The server said a resource a client subscribed to changed. */
  onResourceUpdated(uri: string): void;
  onActivity(): void;
  onSkippedLine(): void;
}

export interface UpstreamDeps {
  logs: LogStore;
  /** Sign-ins of remote servers (OAuth tokens); a server with tokens connects with them. */
  authStore?: AuthStore | undefined;
  children: ChildRegistry;
  clientInfo: { name: string; version: string };
  /**
   * Who answers what a server asks (routing/server-requests.ts). Without it, roots come from the
   * config and elicitation and sampling are declined.
   */
  requests?: ((server: string) => UpstreamRequests) | undefined;
  /** Local servers that exited on the `server/discover` probe: spoken to at 2025 from then on. */
  legacyOnly?: Set<string> | undefined;
}

export interface UpstreamCallOptions {
  timeoutMs: number;
  signal?: Cancellation | undefined;
  onProgress?: ((progress: Progress) => void) | undefined;
  /** The caller answers the server's questions itself (protocol/calls.ts): one round, as it comes. */
  input?: InputRound | undefined;
  /** What the caller declared it can do (a 2025 session's client), told to a 2026 server per request. */
  clientCapabilities?: Record<string, unknown> | undefined;
  /**
   * The caller's own answers to what the server asks during this call: at 2026-07-28 a question
   * is tied to its call, so it goes to this caller (roots still come from the config).
   */
  answers?: ServerRequestHandler | undefined;
  /** The caller's log level and where this call's log messages go (protocol/calls.ts). */
  logLevel?: LoggingLevel | undefined;
  onLog?: ((message: LogMessage) => void) | undefined;
  /** The tool runs only as a task (its `execution.taskSupport` is `required`): started as one, its result awaited. */
  asTask?: boolean | undefined;
}

export interface Upstream {
  readonly transport: UpstreamTransport | undefined;
  /** A local server's process id (null for a remote one). */
  readonly pid: number | null;
  /** The MCP handshake; `signal` aborts it (the caller tears the connection down). */
  initialize(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** Lists one kind in full (following cursors); empty when the server lacks the capability. */
  list(kind: ListKind, timeoutMs: number, signal?: AbortSignal): Promise<Tool[] | Resource[] | Prompt[]>;
  listAll(timeoutMs: number, signal?: AbortSignal): Promise<ServerLists>;
  /** The server's result as it came: an object, checked for nothing more (the client at the end validates what it uses). */
  callTool(name: string, args: Record<string, unknown> | undefined, options: UpstreamCallOptions): Promise<CallToolResult>;
  readResource(uri: string, options: UpstreamCallOptions): Promise<ReadResourceResult>;
  getPrompt(name: string, args: Record<string, string> | undefined, options: UpstreamCallOptions): Promise<GetPromptResult>;
  forward(request: ForwardedRequest, options: UpstreamCallOptions): Promise<unknown>;
  ping(timeoutMs: number): Promise<unknown>;
  /** The MCP revision the connection speaks, once initialized. */
  protocolVersion(): string | undefined;
  /** What the server said of itself and what it can do, once initialized. */
  serverInfo(): { name: string; version: string } | undefined;
  capabilities(): ServerCapabilities | undefined;
  /** What the server says of how to use it (`instructions`), once initialized. */
  instructions(): string | undefined;
  /** A wider scope a remote server asked for (403 insufficient_scope) since the last sign-in. */
  wantedScope(): string | undefined;
  /** Why the connection closed on its own, when it did and says why (a message over the size limit). */
  closeReason(): string | undefined;
  /**
   * Closes the client first, so that calls in flight fail now, then stops what it started (a
   * process group with the full escalation). Idempotent.
   */
  close(): Promise<void>;
}
