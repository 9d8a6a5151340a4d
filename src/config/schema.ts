/**
 * The config's schema: what people write, with every default. `UserConfig` (what a file holds)
 * is its input type and the resolved shapes of its parts (types.ts) are its output types, so the
 * two cannot drift apart. validate.ts runs it and resolves what needs the config's folder.
 */
import * as z from 'zod';
import { MAX_TIMER_MS } from '../util/limits.js';

const positiveInt = z.number().int().positive();
/** Every duration: Node's timers fire at once past 2^31 - 1 ms. */
const duration = positiveInt.max(
  MAX_TIMER_MS,
  `must be at most ${MAX_TIMER_MS} ms (about 24.8 days): longer is more than Node's timers can hold`,
);
/** Linux holds one environment string (`NAME=value`) of at most 32 pages: a longer one fails every spawn (E2BIG). */
export const MAX_ENV_STRING_BYTES = 128 * 1024 - 1;
const envMap = z.record(z.string(), z.string()).superRefine((env, context) => {
  for (const [name, value] of Object.entries(env)) {
    const bytes = Buffer.byteLength(`${name}=${value}`);
    if (bytes > MAX_ENV_STRING_BYTES) {
      context.addIssue({
        code: 'custom',
        path: [name],
        message: `is ${bytes} bytes: one environment variable of a process holds at most ${MAX_ENV_STRING_BYTES}`,
      });
    }
  }
});
const globs = () => z.array(z.string()).default(() => []);

/**
 * The schemas, `strict` (unknown keys are errors, which validation reports as warnings) or not.
 * Built once each; the loose one gives the values.
 */
export function configSchemas(strict: boolean) {
  const object = strict ? z.strictObject : z.object;
  const filter = object({ allow: globs(), deny: globs() });
  const timeouts = object({
    startupMs: duration.default(30_000),
    callMs: duration.default(60_000),
    pingIntervalMs: duration.default(30_000),
    pingTimeoutMs: duration.default(10_000),
  });
  const restart = object({
    /** More than this many failed starts within windowMs makes the server `failed`. */
    maxRestarts: z.number().int().nonnegative().default(5),
    windowMs: duration.default(120_000),
    initialDelayMs: duration.default(1_000),
    maxDelayMs: duration.default(30_000),
    /** This long running healthy resets the backoff. */
    resetAfterMs: duration.default(60_000),
  });
  const common = {
    type: z.enum(['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse']).optional(),
    disabled: z.boolean().default(false),
    tools: filter.prefault({}),
    timeouts: timeouts.prefault({}),
    roots: z.array(z.union([z.string().min(1), object({ uri: z.string().min(1), name: z.string().optional() })])).default(() => []),
    restart: restart.prefault({}),
    /** The MCP revision spoken to it: negotiated (`server/discover`, else `initialize`), or pinned. */
    protocol: z.enum(['auto', '2025-11-25', '2026-07-28']).default('auto'),
    /** `lazy`: listed from the catalogue it reported when it last ran, started on first use. */
    start: z.enum(['eager', 'lazy']).default('eager'),
    /** This long without a request, it is stopped and waits `idle` (lazy servers: 5 minutes unless set). */
    idleStopMs: duration.optional(),
  };
  const stdio = object({
    ...common,
    command: z.string().min(1, 'must not be empty'),
    args: z.array(z.string()).default(() => []),
    env: envMap.default(() => ({})),
    cwd: z.string().min(1).optional(),
  });
  const headerValue = z.union([
    z.string(),
    object({ command: z.array(z.string().min(1)).min(1, 'must name the command to run'), prefix: z.string().optional() }),
  ]);
  const oauth = object({
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).optional(),
    clientMetadataUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL (a client ID metadata document)' }).optional(),
  });
  const http = object({
    ...common,
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    headers: z.record(z.string(), headerValue).default(() => ({})),
    oauth: oauth.optional(),
  });
  const approval = z.union([
    z.literal('auto'),
    object({ default: z.enum(['allow', 'ask', 'deny']).default('allow'), allow: globs(), ask: globs(), deny: globs() }),
  ]);
  const chat = object({
    model: z.string().min(1).optional(),
    maxTokens: positiveInt.optional(),
    maxSteps: positiveInt.optional(),
    system: z.string().optional(),
    /** `auto` (every call runs) or rules: globs on namespaced tool names; deny wins over ask, ask over allow. */
    approval: approval.optional(),
    /** Tool results longer than this (characters of text) are cut; the full text is kept on disk. */
    maxToolResultChars: positiveInt.optional(),
    /** What is kept on disk of past sessions (and their full tool results). */
    retention: object({ maxAgeDays: z.number().positive().optional(), maxTotalMB: z.number().positive().optional() }).optional(),
    /** A server's sampling request answered with Claude: after the person approves (`ask`, the default), always, or never. */
    sampling: z.enum(['ask', 'allow', 'deny']).optional(),
    /**
     * The Messages API's tool search: tools are sent deferred (`defer_loading`) behind a search
     * tool, and Claude loads the ones it finds. `auto`: on for a big catalogue (chat/tool-search.ts).
     */
    toolSearch: z.union([z.literal('auto'), z.boolean()], { error: 'must be "auto", true or false' }).optional(),
    /** Globs on namespaced tool names that are never deferred. */
    pinnedTools: z.array(z.string()).optional(),
  });
  const pluginEntry = z.union([z.string().min(1), z.tuple([z.string().min(1), z.record(z.string(), z.unknown())])]);
  const profile = object({
    servers: z.array(z.string().min(1)).default(() => []),
    tools: filter.prefault({}),
    /** `all`: every tool in tools/list; `search`: the pinned ones and two meta-tools that find and call the rest. */
    exposure: z.enum(['all', 'search']).default('all'),
    /** With `exposure: "search"`, globs on namespaced tool names listed as they are. */
    pinned: globs(),
  });
  const gatewayHttp = object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    token: z.string().min(16, 'must be at least 16 characters').optional(),
  });
  const gateway = object({
    /** The HTTP gateway: Streamable HTTP at /mcp and /servers/NAME/mcp. `token` is required off loopback. */
    http: gatewayHttp.optional(),
    /**
     * The longest tool or prompt name of the merged catalogue: hosts prefix what they get
     * (Claude Code: `mcp__mcpd__`, 11 characters) and the Messages API takes 64 at most.
     */
    maxNameLength: z.number().int().min(16).max(64).default(53),
    /** Named views for MCP clients: some servers, and allow/deny globs on namespaced tool names. */
    profiles: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a profile name may hold letters, digits, _ . and - only'), profile)
      .default(() => ({})),
  });
  /** Settings every server gets unless its own entry says otherwise (merged per key; timeouts, restart and tools per field). */
  const defaults = object({
    disabled: common.disabled.optional(),
    tools: filter.partial().optional(),
    timeouts: timeouts.partial().optional(),
    restart: restart.partial().optional(),
    roots: common.roots.optional(),
    protocol: common.protocol.optional(),
    start: common.start.optional(),
    idleStopMs: common.idleStopMs,
  });
  /**
   * The dashboard. `appLinks`: a client that cannot show an App gets a line with the dashboard
   * link to it. `linkClients`: globs on clients' names (from initialize) that get links though
   * they declare the UI extension: Claude Desktop (`claude-ai`) does, yet shows no App of a
   * local server, which is what mcpd is to it.
   */
  const ui = object({
    appLinks: z.boolean().default(true),
    linkClients: z.array(z.string().min(1)).default(() => ['claude-ai']),
  });
  // Servers are checked one by one (validate.ts), so that one run reports every problem.
  const top = object({
    $schema: z.string().optional(),
    servers: z.record(z.string(), z.unknown()).optional(),
    mcpServers: z.record(z.string(), z.unknown()).optional(),
    defaults: defaults.optional(),
    chat: chat.prefault({}),
    plugins: z.array(pluginEntry).default(() => []),
    gateway: gateway.prefault({}),
    ui: ui.prefault({}),
  });
  return { stdio, http, top, filter, timeouts, restart, headerValue, oauth, approval, chat, profile, gateway, ui };
}

export type ConfigSchemas = ReturnType<typeof configSchemas>;
export const STRICT = configSchemas(true);
export const LOOSE = configSchemas(false);

/** What a server gets when its config says nothing of these. */
export const DEFAULT_TIMEOUTS = LOOSE.timeouts.parse({});
export const DEFAULT_RESTART = LOOSE.restart.parse({});
/** How long a lazy server with no `idleStopMs` of its own runs without a request. */
export const DEFAULT_LAZY_IDLE_STOP_MS = 300_000;
