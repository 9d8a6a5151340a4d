/**
 * What a front (the control socket, the MCP bridge, the HTTP gateway, the dashboard) may ask of
 * the daemon: one narrow interface, handed to each front. Fronts never reach into the daemon's
 * parts, and the daemon knows fronts only as `Front`s it starts and closes.
 */
import type { GetPromptResult, ReadResourceResult, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { RoutedCallOptions } from '../calls/router.js';
import type { ChatService } from '../chat/service.js';
import type { ProfileConfig } from '../config/types.js';
import type { CallOptions, ForwardedRequest } from '../supervisor/managed-server.js';
import type { CallToolResultJson, Events } from '../protocol/control.js';
import type {
  AuthStatus,
  DaemonStatus,
  FrontStatus,
  LogEntry,
  McpClientStatus,
  PromptEntry,
  ReloadResult,
  ResourceEntry,
  ServerStatus,
  ToolEntry,
} from '../protocol/types.js';

/** The daemon's events, as fronts hear them (chat events go to attached clients instead). */
export type HostEvents = { [E in Exclude<keyof Events, 'chat:event' | 'call:progress'>]: (params: Events[E]) => void };

export type ServerAction = 'start' | 'stop' | 'restart';

export interface DaemonHost {
  status(): DaemonStatus;
  /** Throws MCPD_CLOSED once the daemon is stopping: new work is refused. */
  assertOpen(): void;
  /** Acts on one server; resolves with its state once every action asked for settled. */
  serverAction(name: string, action: ServerAction): Promise<ServerStatus>;
  /** Throws MCPD_SERVER_UNKNOWN for a name not in the running config. */
  assertServer(name: string): void;
  /** What the running config says for a server, secrets masked (config/mask.ts). */
  serverConfig(name: string): Record<string, unknown>;
  /** The URL that logs a browser into the dashboard, opening its port if needed. */
  openUi(): Promise<{ url: string }>;
  /** A profile of the running config (gateway.profiles); throws MCPD_PROFILE_UNKNOWN. */
  profile(name: string): ProfileConfig;
  /** The catalogue after the plugins (what clients and Claude see), settled. */
  tools(server?: string): Promise<ToolEntry[]>;
  resources(server?: string): ResourceEntry[];
  prompts(server?: string): PromptEntry[];
  callTool(name: string, args: Record<string, unknown> | undefined, options: RoutedCallOptions): Promise<CallToolResultJson>;
  /** A tool one server does not list at all, called by its own name (see ToolRouter.callUnlisted). */
  callUnlisted(
    server: string,
    name: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson>;
  readResource(uri: string, server: string | undefined, options: RoutedCallOptions): Promise<ReadResourceResult>;
  getPrompt(name: string, args: Record<string, string> | undefined, options: RoutedCallOptions): Promise<GetPromptResult>;
  /** A request the catalogue does not model, passed to one running server as it is. */
  forward(server: string, request: ForwardedRequest, options: CallOptions): Promise<unknown>;
  /**
   * A client's subscription to a resource of a server. Counted across clients: the server is
   * asked to subscribe for the first and to unsubscribe after the last.
   */
  subscribeResource(server: string, uri: string, options: CallOptions): Promise<void>;
  unsubscribeResource(server: string, uri: string, options: CallOptions): Promise<void>;
  /** The running servers, with what each said it can do. */
  runningServers(): { name: string; capabilities: ServerCapabilities }[];
  /** The servers that list this resource URI. */
  resourceOwners(uri: string): string[];
  readLogs(source: string | undefined, lines: number): LogEntry[];
  /** Log sources that exist (servers, daemon, chat, plugin:NAME). */
  logSources(): string[];
  reload(): Promise<ReloadResult>;
  stop(reason: string): Promise<void>;
  readonly chat: ChatService;
  /** Starts a sign-in to a remote server (mcpd auth NAME): the URL to send the person to. */
  signIn(server: string, signal: AbortSignal): Promise<{ authorizationUrl: string } | { signedIn: true }>;
  /** Waits for the sign-in started for this server to complete; the server's status then. */
  waitSignIn(server: string, signal: AbortSignal): Promise<ServerStatus>;
  /** Forgets the server's tokens and reconnects it without them. */
  signOut(server: string): Promise<ServerStatus>;
  /** Every remote server's sign-in state (never a token). */
  authStatus(): AuthStatus[];
  /** An MCP front tells of a client that initialized, or went away (status, events). */
  clientEvent(kind: 'connected' | 'disconnected', client: McpClientStatus): void;
  /** Subscribes to a daemon event; returns the unsubscribe function. */
  on<E extends keyof HostEvents>(event: E, listener: HostEvents[E]): () => void;
}

/** A front: something clients reach the daemon through. Started after the core, closed on stop. */
export interface Front {
  readonly name: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Where it listens and how many sessions it holds, for `mcpd status`. */
  describe(): FrontStatus;
}
