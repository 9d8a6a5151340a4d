/**
 * The plugin API: what a plugin module exports, what it gets, and the hooks it may return.
 * Importable as `mcpd/plugin`. This module has no runtime dependencies.
 *
 * Hook order and failure policy (docs/plugins.md):
 *   catalogue       in sequence, in plugin order; a failing plugin's change is skipped
 *   beforeToolCall  in sequence; the first deny wins; a failing plugin DENIES the call (fail closed)
 *   afterToolCall   in sequence; a failing plugin's change is skipped
 *   beforeResourceRead, beforePromptGet   as beforeToolCall (deny, fail closed)
 *   afterResourceRead, afterPromptGet     as afterToolCall (rewrite; a failure skips the change)
 *   onEvent         in parallel, fire-and-forget; failures are logged
 *   dispose         on unload (reload, stop); failures are logged
 * Every hook call has a timeout (the plugin's `timeoutMs`, default 5000 ms); running out of time
 * counts as failing.
 */
import type { ResolvedConfig } from '../config/types.js';
import type { Caller, CallToolResultJson } from '../protocol/calls.js';
import type { CatalogueChangedEvent, ReloadResult, ServerState, ToolEntry } from '../protocol/types.js';

export type { ToolEntry } from '../protocol/types.js';
export type ToolResult = CallToolResultJson;

/** Who made a tool call. */
export type { Caller };

export interface ToolCall {
  /** Unique per call: pairs a beforeToolCall with its afterToolCall and its `tool:called` event. */
  readonly id: string;
  /** The namespaced name the caller used. */
  readonly tool: string;
  readonly server: string;
  /** The server's own name for the tool. */
  readonly originalName: string;
  /** What will be sent to the server; a beforeToolCall hook may return a call with new ones. */
  arguments: Record<string, unknown>;
  readonly caller: Caller;
  /** The chat session, for calls made by chat. */
  readonly sessionId?: string;
  /** For caller `mcp-client`: the client's name from its `initialize` (e.g. "claude-code"). */
  readonly client?: string;
}

export type CallOutcome = 'ok' | 'error' | 'denied' | 'failed';

/** A `resources/read` on its way to a server. */
export interface ResourceRead {
  readonly id: string;
  readonly uri: string;
  readonly server: string;
  readonly caller: Caller;
  readonly client?: string;
}

/** What a server answered to `resources/read`. */
export interface ResourceReadResult {
  contents: Array<Record<string, unknown> & { uri: string }>;
  [key: string]: unknown;
}

/** A `prompts/get` on its way to a server. */
export interface PromptGet {
  readonly id: string;
  /** The namespaced name the caller used. */
  readonly prompt: string;
  readonly server: string;
  readonly originalName: string;
  /** What will be sent; a beforePromptGet hook may return a get with new ones. */
  arguments: Record<string, string>;
  readonly caller: Caller;
  readonly client?: string;
}

/** What a server answered to `prompts/get`. */
export interface PromptGetResult {
  description?: string;
  messages: Array<{ role: string; content: Record<string, unknown> & { type: string } }>;
  [key: string]: unknown;
}

/** Daemon events, as plugins see them. */
export type DaemonEvent =
  | { type: 'server:state'; server: string; state: ServerState; previous: ServerState }
  | ({ type: 'catalogue:changed' } & CatalogueChangedEvent)
  | ({ type: 'config:reloaded' } & ReloadResult)
  | {
      type: 'tool:called';
      call: Readonly<ToolCall>;
      /** ok: a result; error: a result with isError; denied: a plugin said no; failed: no result (timeout, server gone...) */
      outcome: CallOutcome;
      durationMs: number;
      error?: string;
    }
  | { type: 'daemon:stopping'; reason: string };

export type DaemonEventType = DaemonEvent['type'];

export interface PluginLogger {
  debug(text: string): void;
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export interface PluginContext {
  readonly name: string;
  /** Lines show up in `mcpd logs` (source: plugin:NAME). */
  readonly log: PluginLogger;
  /** The resolved config, read-only. */
  readonly config: Readonly<ResolvedConfig>;
  /** A folder of the plugin's own, under MCPD_HOME/plugins/NAME (created). */
  readonly dataDir: string;
  /** The daemon's event stream; returns an unsubscribe function. */
  readonly events: {
    on<T extends DaemonEventType>(type: T | '*', listener: (event: Extract<DaemonEvent, { type: T }>) => void): () => void;
  };
}

type MaybePromise<T> = T | Promise<T>;

export interface PluginHooks {
  /** Filter, rename or re-describe tools. Return the new list (names must stay valid and unique). */
  catalogue?: (tools: ToolEntry[]) => MaybePromise<ToolEntry[]>;
  /** Return a call (possibly with new arguments), `{ deny: reason }`, or nothing for no change. */
  beforeToolCall?: (call: ToolCall) => MaybePromise<ToolCall | { deny: string } | void>;
  /** Return a new result, or nothing for no change. */
  afterToolCall?: (call: Readonly<ToolCall>, result: ToolResult) => MaybePromise<ToolResult | void>;
  /** Return `{ deny: reason }` to refuse the read, or nothing to let it through. */
  beforeResourceRead?: (read: Readonly<ResourceRead>) => MaybePromise<{ deny: string } | void>;
  /** Return new contents, or nothing for no change. */
  afterResourceRead?: (read: Readonly<ResourceRead>, result: ResourceReadResult) => MaybePromise<ResourceReadResult | void>;
  /** Return a get (possibly with new arguments), `{ deny: reason }`, or nothing for no change. */
  beforePromptGet?: (get: PromptGet) => MaybePromise<PromptGet | { deny: string } | void>;
  /** Return new messages, or nothing for no change. */
  afterPromptGet?: (get: Readonly<PromptGet>, result: PromptGetResult) => MaybePromise<PromptGetResult | void>;
  onEvent?: (event: DaemonEvent) => MaybePromise<void>;
  dispose?: () => MaybePromise<void>;
}

export interface PluginDefinition<Options = Record<string, unknown>> {
  name: string;
  /** How long setup and each hook call may take (default: 10 s for setup, 5 s for a hook). */
  timeoutMs?: number;
  setup(ctx: PluginContext, options: Options): MaybePromise<PluginHooks | void>;
}

/** Identity helper that types a plugin: `export default definePlugin({ name, setup(ctx, options) { … } })`. */
export function definePlugin<Options = Record<string, unknown>>(definition: PluginDefinition<Options>): PluginDefinition<Options> {
  return definition;
}

export { globToRegExp, matchesAny } from '../util/glob.js';
