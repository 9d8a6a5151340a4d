/**
 * The resolved config: every default applied and validated; nothing downstream reads raw config.
 * What the schema can say (schema.ts) is derived from it; what needs the config's folder (paths,
 * roots) or the server's kind is added by validate.ts. Types only, so any part may import it.
 */
import type { z } from 'zod';
import type { ConfigSchemas } from './schema.js';

type Out<K extends keyof ConfigSchemas> = z.output<ConfigSchemas[K]>;

/** Globs on the server's own tool names; empty allow means "all". */
export type ToolFilter = Out<'filter'>;
export type ServerTimeouts = Out<'timeouts'>;
export type RestartPolicyConfig = Out<'restart'>;
/** A header's value: as written, or what a command prints (a token helper), after `prefix`. */
export type HeaderValue = Out<'headerValue'>;
export type ChatConfig = Out<'chat'>;
export type UiConfig = Out<'ui'>;
export type ApprovalRules = Exclude<NonNullable<ChatConfig['approval']>, 'auto'>;
export type ApprovalAction = ApprovalRules['default'];
export type SamplingRule = NonNullable<ChatConfig['sampling']>;

/** What `servers.NAME.protocol` may say. */
export type ProtocolChoice = 'auto' | '2025-11-25' | '2026-07-28';

interface ServerConfigBase {
  name: string;
  disabled: boolean;
  tools: ToolFilter;
  timeouts: ServerTimeouts;
  restart: RestartPolicyConfig;
  /** What mcpd answers to the server's `roots/list`: file:// URIs (paths resolved against the config's folder). */
  roots: { uri: string; name?: string }[];
  /** The MCP revision spoken to it: `auto` negotiates (server/discover, else initialize). */
  protocol: ProtocolChoice;
  /** `lazy`: listed from its remembered catalogue, started by the first request that needs it. */
  start: 'eager' | 'lazy';
  /** Stopped (state `idle`) after this long without a request; null: runs until stopped. */
  idleStopMs: number | null;
  /** Set for a server a chat brought (`mcpd chat ./weather.py`): never in a config file. */
  ephemeral?: EphemeralOrigin;
}

/** Where a server a chat brought comes from, and the control connection that brought it (its chats see it). */
export interface EphemeralOrigin {
  script: string;
  client: number;
}

type StdioOut = Out<'stdio'>;
type HttpOut = Out<'http'>;

export interface StdioServerConfig extends ServerConfigBase {
  transport: 'stdio';
  command: StdioOut['command'];
  args: StdioOut['args'];
  /** Only what the config sets; the inherited environment is added at spawn time. */
  env: StdioOut['env'];
  /** Absolute: resolved against the config's folder. */
  cwd: string;
}

export interface HttpServerConfig extends ServerConfigBase {
  transport: 'http';
  url: HttpOut['url'];
  /** `auto` (no "type"): Streamable HTTP, then legacy SSE if the server answers 400/404/405. */
  wire: 'auto' | 'streamable-http' | 'sse';
  headers: HttpOut['headers'];
  /** OAuth client settings (sign-in with `mcpd auth NAME`); without them, dynamic registration. */
  oauth?: { [K in keyof NonNullable<HttpOut['oauth']>]?: Exclude<NonNullable<HttpOut['oauth']>[K], undefined> };
}

export type ServerConfig = StdioServerConfig | HttpServerConfig;

export type PluginSpec = { specifier: string; options: Record<string, unknown> };

export type ProfileConfig = Out<'profile'> & { name: string };

export interface GatewayConfig {
  http?: { host: string; port: number; token?: string };
  maxNameLength: number;
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
  ui: UiConfig;
  /** Things that did not stop the config from loading (unknown keys...). */
  warnings: string[];
}

type In<K extends keyof ConfigSchemas> = z.input<ConfigSchemas[K]>;

/** One server as a config file holds it: a local one (`command`) or a remote one (`url`). */
export type UserServerConfig = In<'stdio'> | In<'http'>;

/** What a config file holds (`mcp.config.json`, or `mcp.config.ts` with `defineConfig`). */
export type UserConfig = Omit<In<'top'>, 'servers' | 'mcpServers'> & {
  servers?: Record<string, UserServerConfig>;
  /** Claude Desktop's name for `servers`: such files load as they are. */
  mcpServers?: Record<string, UserServerConfig>;
};
