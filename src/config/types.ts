/** The resolved config: every default applied and validated. Nothing downstream reads raw config. */

export interface ToolFilter {
  /** Globs on the server's own tool names; empty means "all". */
  allow: string[];
  deny: string[];
}

export interface ServerTimeouts {
  startupMs: number;
  callMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export interface RestartPolicyConfig {
  /** More than this many failed starts within windowMs makes the server `failed`. */
  maxRestarts: number;
  windowMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  /** This long running healthy resets the backoff. */
  resetAfterMs: number;
}

interface ServerConfigBase {
  name: string;
  disabled: boolean;
  tools: ToolFilter;
  timeouts: ServerTimeouts;
  restart: RestartPolicyConfig;
  /** What mcpd answers to the server's `roots/list`: file:// URIs (paths resolved against the config's folder). */
  roots: { uri: string; name?: string }[];
}

export interface StdioServerConfig extends ServerConfigBase {
  transport: 'stdio';
  command: string;
  args: string[];
  /** Only what the config sets; the inherited environment is added at spawn time. */
  env: Record<string, string>;
  cwd: string;
}

/** A header's value: as written, or what a command prints (a token helper), after `prefix`. */
export type HeaderValue = string | { command: string[]; prefix?: string };

export interface HttpServerConfig extends ServerConfigBase {
  transport: 'http';
  url: string;
  /** `auto` (no "type"): Streamable HTTP, then legacy SSE if the server answers 400/404/405. */
  protocol: 'auto' | 'streamable-http' | 'sse';
  headers: Record<string, HeaderValue>;
  /** OAuth client settings (sign-in with `mcpd auth NAME`); without them, dynamic registration. */
  oauth?: { clientId?: string; clientSecret?: string; scopes?: string[]; clientMetadataUrl?: string };
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

export type ApprovalAction = 'allow' | 'ask' | 'deny';

/** Globs on namespaced tool names. A match in deny wins over ask, ask over allow. */
export interface ApprovalRules {
  default: ApprovalAction;
  allow: string[];
  ask: string[];
  deny: string[];
}

export interface ChatConfig {
  model?: string;
  maxTokens?: number;
  maxSteps?: number;
  system?: string;
  /** `auto` (every call runs) or rules. */
  approval?: 'auto' | ApprovalRules;
  /** Tool results longer than this (characters of text) are cut; the full text is kept on disk. */
  maxToolResultChars?: number;
  /** What is kept on disk of past sessions (and their full tool results). */
  retention?: { maxAgeDays?: number; maxTotalMB?: number };
  /** A server's sampling request answered with Claude: after the person approves (`ask`, the default), always, or never. */
  sampling?: SamplingRule;
}

export type SamplingRule = 'ask' | 'allow' | 'deny';

export type PluginSpec = { specifier: string; options: Record<string, unknown> };

export interface ProfileConfig {
  name: string;
  /** The servers it includes (empty: all). */
  servers: string[];
  tools: { allow: string[]; deny: string[] };
}

export interface GatewayConfig {
  /** The HTTP gateway: Streamable HTTP at /mcp and /servers/NAME/mcp. `token` is required off loopback. */
  http?: { host: string; port: number; token?: string };
  /** Named views for MCP clients: some servers, and allow/deny globs on namespaced tool names. */
  profiles: Record<string, ProfileConfig>;
}

export interface ResolvedConfig {
  /** The file it came from (absent for a config built in code). */
  file?: string;
  /** Relative paths in the config resolve against this folder. */
  dir: string;
  servers: Record<string, ServerConfig>;
  chat: ChatConfig;
  plugins: PluginSpec[];
  gateway: GatewayConfig;
  /** Things that did not stop the config from loading (unknown keys...). */
  warnings: string[];
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  startupMs: 30_000,
  callMs: 60_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
};

export const DEFAULT_RESTART: RestartPolicyConfig = {
  maxRestarts: 5,
  windowMs: 120_000,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
};
