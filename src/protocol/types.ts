/**
 * Plain data shapes shared by the daemon and its clients (no dependencies, so the thin CLI can
 * import them). These are what the control protocol carries.
 */

/**
 * `disposed` is final: a server removed from the config (or of a stopped daemon) takes no more
 * actions. `idle`: no process, its catalogue kept (remembered, or from before an idle stop); the
 * first request that needs it starts it.
 */
export const SERVER_STATES = [
  'starting',
  'running',
  'backoff',
  'failed',
  'needs-auth',
  'stopping',
  'stopped',
  'idle',
  'disabled',
  'disposed',
] as const;
export type ServerState = (typeof SERVER_STATES)[number];

export interface ErrorInfo {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface ServerStatus {
  name: string;
  /** `http` is Streamable HTTP, `sse` the legacy SSE transport (what a remote server was reached with). */
  transport: 'stdio' | 'http' | 'sse';
  state: ServerState;
  pid: number | null;
  /** When it last became `running` (ISO time), while it is running. */
  runningSince: string | null;
  /** `lazy`: started on first use, from a remembered catalogue (`servers.NAME.start`). */
  start: 'eager' | 'lazy';
  /** When it last stopped running (ISO time): the idle stop, or the run its remembered catalogue is from. */
  lastRanAt: string | null;
  /** Restarts after failures since the daemon (or a manual restart) started it. */
  restarts: number;
  toolCount: number;
  resourceCount: number;
  promptCount: number;
  lastError: ErrorInfo | null;
  /** Milliseconds until the next start attempt, while in `backoff`. */
  nextRetryMs: number | null;
  /** Lines on stdout that were not JSON-RPC, skipped. */
  skippedStdoutLines: number;
  serverInfo: { name: string; version: string } | null;
  /** The MCP revision spoken to it (`2026-07-28`, or the one its `initialize` agreed), once connected. */
  protocolVersion: string | null;
  /** A server a chat brought (`mcpd chat ./weather.py`): its script, and the control client whose chats see its tools. */
  ephemeral?: { script: string; client: number };
}

export interface DaemonStatus {
  pid: number;
  version: string;
  protocolVersion: number;
  startedAt: string;
  uptimeMs: number;
  home: string;
  socket: string;
  configFile: string | null;
  /** False until every server's first start attempt settled (running, backoff or failed). */
  ready: boolean;
  servers: ServerStatus[];
  toolCount: number;
  plugins: PluginStatus[];
  /** Where clients reach the daemon: the control socket, the bridge's socket, the HTTP gateway. */
  fronts: FrontStatus[];
  /** MCP clients connected through the bridge or the HTTP gateway (once they initialized). */
  clients: McpClientStatus[];
  /** The daemon's own memory, in bytes (what `process.memoryUsage()` says). */
  memory: { rss: number; heapUsed: number; heapTotal: number };
  /** The config on disk failed to load (on a reload); the running config stays. Null once one loads. */
  configError: { file: string | null; message: string; time: string } | null;
  /** Whether the daemon's environment has an Anthropic credential (ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN) for chat. */
  chat: { credential: boolean };
}

export interface FrontStatus {
  name: 'control' | 'mcp-socket' | 'mcp-http' | 'ui';
  /** A socket path, or a URL (empty for a dashboard not open now). */
  address: string;
  /** MCP sessions open (the MCP fronts) or connections (the control socket). */
  sessions: number;
}

export interface McpClientStatus {
  front: 'mcp-socket' | 'mcp-http';
  /** The endpoint it uses: /mcp, /servers/NAME/mcp or /profiles/NAME/mcp. */
  endpoint: string;
  /** What it said in `initialize`. */
  name: string;
  version: string;
  /** ISO time it connected. */
  since: string;
}

export interface ToolEntry {
  /** The namespaced name: what clients and Claude use. */
  name: string;
  server: string;
  /** The server's own name for it. */
  originalName: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  /** As the server gave them, passed on to MCP clients unchanged. */
  icons?: Record<string, unknown>[];
  _meta?: Record<string, unknown>;
}

export interface ResourceEntry {
  uri: string;
  server: string;
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: Record<string, unknown>;
  icons?: Record<string, unknown>[];
  _meta?: Record<string, unknown>;
}

export interface PromptEntry {
  name: string;
  server: string;
  originalName: string;
  title?: string;
  description?: string;
  arguments?: { name: string; description?: string; required?: boolean }[];
}

/** `app`: what a server's App logged in the dashboard. */
export type LogStream = 'daemon' | 'stderr' | 'mcp' | 'app';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  seq: number;
  time: string;
  /** `daemon` or a server name. */
  source: string;
  stream: LogStream;
  level: LogLevel;
  text: string;
  /** For stream `mcp`: the server's own level (`notice`, `critical`...), which `level` rounds. */
  mcpLevel?: string;
}

export interface ServerStateEvent {
  server: string;
  state: ServerState;
  previous: ServerState;
  status: ServerStatus;
}

export interface CatalogueChangedEvent {
  server: string;
  kind: 'tools' | 'resources' | 'prompts';
  added: string[];
  removed: string[];
  total: number;
}

export interface ReloadResult {
  file: string | null;
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** The plugin list changed, so the new list was loaded and the old one disposed. */
  pluginsChanged: boolean;
  /** What the file changed that only a restart applies (`gateway.http`): the running daemon keeps the old. */
  needsRestart: string[];
  warnings: string[];
  /**
   * What asked for it. A `request` (mcpd reload) reports every change since the previous request
   * (or the start), including those the file watcher applied in between.
   */
  trigger: 'request' | 'watcher' | 'signal';
}

/** One edit of the config file's servers (the dashboard's; the same as `mcpd server add|remove|enable|disable`). */
export interface ConfigServerEdit {
  action: 'add' | 'update' | 'remove' | 'enable' | 'disable';
  name: string;
  /** add: the whole entry, as in the file; update: the fields to set (a masked value sent back keeps the file's). */
  entry?: Record<string, unknown>;
  /** add: replace a server of that name. */
  replace?: boolean;
}

export interface ConfigEditResult {
  file: string;
  /** What was done, in a line. */
  said: string;
  /** The server after the reload (not after a remove). */
  server?: ServerStatus;
  reload: ReloadResult;
}

/** Token usage, as the Messages API counts it. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
}

export type StopReason = 'end_turn' | 'max_steps' | 'max_tokens' | 'refusal' | 'cancelled' | 'error';

export type ApprovalDecision = 'yes' | 'no' | 'always';

/** What a chat turn streams to the clients attached to its session (notification `chat:event`). */
export type ChatEvent =
  | { type: 'turn_start'; sessionId: string; turnId: string; model: string; prompt: string }
  | { type: 'text'; sessionId: string; turnId: string; text: string }
  | { type: 'tool_start'; sessionId: string; turnId: string; id: string; name: string; input: unknown }
  /** Claude searched the deferred tools (chat.toolSearch): its query and the tools found, which it may now call. */
  | { type: 'tool_search'; sessionId: string; turnId: string; id: string; query: string; found: string[] }
  | {
      type: 'tool_progress';
      sessionId: string;
      turnId: string;
      id: string;
      name: string;
      progress: number;
      total?: number;
      message?: string;
    }
  | {
      type: 'tool_end';
      sessionId: string;
      turnId: string;
      id: string;
      name: string;
      ok: boolean;
      durationMs: number;
      summary: string;
      truncated: boolean;
      /** The tool has an App: its view (apps.view) and the dashboard link to it. */
      app?: { view: string; url?: string };
    }
  | { type: 'approval_request'; sessionId: string; turnId: string; requestId: string; name: string; input: unknown }
  /** A server asks the person something while a tool of this turn runs (MCP elicitation); answered with chat.answer. */
  | {
      type: 'elicitation_request';
      sessionId: string;
      turnId: string;
      requestId: string;
      server: string;
      tool: string;
      message: string;
      requestedSchema: Record<string, unknown>;
    }
  /** A server asks to sample Claude while a tool of this turn runs (chat.sampling "ask"); answered with chat.approve. */
  | {
      type: 'sampling_request';
      sessionId: string;
      turnId: string;
      requestId: string;
      server: string;
      tool: string;
      preview: string;
      systemPrompt?: string;
      maxTokens: number;
    }
  /** An approval, elicitation or sampling request was settled by the daemon (timed out, cancelled, its call ended). */
  | { type: 'request_closed'; sessionId: string; turnId: string; requestId: string }
  | { type: 'notice'; sessionId: string; turnId: string; message: string }
  | { type: 'step_end'; sessionId: string; turnId: string; step: number; usage: TokenUsage }
  | {
      type: 'turn_end';
      sessionId: string;
      turnId: string;
      stopReason: StopReason;
      steps: number;
      usage: TokenUsage;
      sessionUsage: TokenUsage;
      error?: ErrorInfo;
    };

export interface ChatSessionSummary {
  id: string;
  title: string;
  model: string;
  createdAt: string;
  updatedAt: string;
  turns: number;
  usage: TokenUsage;
  running: boolean;
}

export interface ChatTurnResult {
  sessionId: string;
  turnId: string;
  stopReason: StopReason;
  text: string;
  steps: number;
  usage: TokenUsage;
  sessionUsage: TokenUsage;
  error?: ErrorInfo;
}

export interface PluginStatus {
  name: string;
  specifier: string;
  state: 'loaded' | 'failed';
  /** The hooks it returned. */
  hooks: string[];
  /** Why it failed to load. */
  error: string | null;
  /** Hook calls that threw, timed out or returned something invalid. */
  failures: number;
  lastError: { hook: string; message: string; time: string } | null;
}

/** A remote server's sign-in (mcpd auth): never a token. */
export interface AuthStatus {
  server: string;
  url: string;
  state: 'signed-in' | 'expired' | 'needs-sign-in' | 'not-signed-in';
  /** ISO time the access token expires, when the server said. */
  expiresAt: string | null;
  scope: string | null;
  /** A sign-in was started and waits for the person. */
  pending: boolean;
}

/**
 * One call's App, kept for the dashboard (`apps.view`): the tool, its input and result, and
 * the `ui://` resource that shows them. Kept in memory for a while (see routing/app-views.ts).
 */
export interface AppViewEntry {
  id: string;
  server: string;
  /** The namespaced name, and the server's own. */
  tool: string;
  originalName: string;
  resourceUri: string;
  input: Record<string, unknown>;
  result: Record<string, unknown>;
  /** The chat session whose turn made the call, if one did (the App's messages go there). */
  sessionId?: string;
  at: string;
}
