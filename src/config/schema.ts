/**
 * Validation of what people write (UserConfig) into ResolvedConfig.
 * Every problem names its path (`servers.github.env.TOKEN: ...`). Unknown keys are warnings, not
 * errors, so that Claude Desktop and Claude Code files (which carry keys of their own) load as is.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { MAX_TIMER_MS } from '../util/limits.js';
import { isLoopbackHost } from '../util/loopback.js';
import {
  type ApprovalAction,
  type SamplingRule,
  type ChatConfig,
  DEFAULT_RESTART,
  DEFAULT_TIMEOUTS,
  type PluginSpec,
  type ResolvedConfig,
  type ServerConfig,
} from './types.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export type ValidationResult =
  { ok: true; config: ResolvedConfig; warnings: string[] } | { ok: false; problems: ConfigProblem[]; warnings: string[] };

const positiveInt = z.number().int().positive();
/** Every duration: Node's timers fire at once past 2^31 - 1 ms. */
const duration = positiveInt.max(
  MAX_TIMER_MS,
  `must be at most ${MAX_TIMER_MS} ms (about 24.8 days): longer is more than Node's timers can hold`,
);
const stringMap = z.record(z.string(), z.string());

function schemas(strict: boolean) {
  const object = strict ? z.strictObject : z.object;
  const common = {
    type: z.enum(['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse']).optional(),
    disabled: z.boolean().optional(),
    tools: object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }).optional(),
    timeouts: object({
      startupMs: duration.optional(),
      callMs: duration.optional(),
      pingIntervalMs: duration.optional(),
      pingTimeoutMs: duration.optional(),
    }).optional(),
    roots: z.array(z.union([z.string().min(1), object({ uri: z.string().min(1), name: z.string().optional() })])).optional(),
    restart: object({
      maxRestarts: z.number().int().nonnegative().optional(),
      windowMs: duration.optional(),
      initialDelayMs: duration.optional(),
      maxDelayMs: duration.optional(),
      resetAfterMs: duration.optional(),
    }).optional(),
  };
  const stdio = object({
    ...common,
    command: z.string().min(1, 'must not be empty'),
    args: z.array(z.string()).optional(),
    env: stringMap.optional(),
    cwd: z.string().min(1).optional(),
  });
  const http = object({
    ...common,
    url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
    headers: z
      .record(
        z.string(),
        z.union([
          z.string(),
          object({ command: z.array(z.string().min(1)).min(1, 'must name the command to run'), prefix: z.string().optional() }),
        ]),
      )
      .optional(),
    oauth: object({
      clientId: z.string().min(1).optional(),
      clientSecret: z.string().min(1).optional(),
      scopes: z.array(z.string().min(1)).optional(),
      clientMetadataUrl: z.url({ protocol: /^https$/, error: 'must be an https:// URL (a client ID metadata document)' }).optional(),
    }).optional(),
  });
  const pluginEntry = z.union([z.string().min(1), z.tuple([z.string().min(1), z.record(z.string(), z.unknown())])]);
  const top = object({
    $schema: z.string().optional(),
    servers: z.record(z.string(), z.unknown()).optional(),
    mcpServers: z.record(z.string(), z.unknown()).optional(),
    chat: object({
      model: z.string().min(1).optional(),
      maxTokens: positiveInt.optional(),
      maxSteps: positiveInt.optional(),
      system: z.string().optional(),
      approval: z
        .union([
          z.literal('auto'),
          object({
            default: z.enum(['allow', 'ask', 'deny']).optional(),
            allow: z.array(z.string()).optional(),
            ask: z.array(z.string()).optional(),
            deny: z.array(z.string()).optional(),
          }),
        ])
        .optional(),
      maxToolResultChars: positiveInt.optional(),
      retention: object({ maxAgeDays: z.number().positive().optional(), maxTotalMB: z.number().positive().optional() }).optional(),
      sampling: z.enum(['ask', 'allow', 'deny']).optional(),
    }).optional(),
    plugins: z.array(pluginEntry).optional(),
    gateway: object({
      http: object({
        host: z.string().min(1).optional(),
        port: z.number().int().min(0).max(65535),
        token: z.string().min(16, 'must be at least 16 characters').optional(),
      }).optional(),
      profiles: z
        .record(
          z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a profile name may hold letters, digits, _ . and - only'),
          object({
            servers: z.array(z.string().min(1)).optional(),
            tools: object({ allow: z.array(z.string()).optional(), deny: z.array(z.string()).optional() }).optional(),
          }),
        )
        .optional(),
    }).optional(),
  });
  return { stdio, http, top };
}

const STRICT = schemas(true);
const LOOSE = schemas(false);

function joinPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** Parses strictly to find unknown keys (warnings), then loosely for the value. */
function parseTolerant<T>(
  strict: z.ZodType<T>,
  loose: z.ZodType<T>,
  value: unknown,
  prefix: string,
  problems: ConfigProblem[],
  warnings: string[],
): T | undefined {
  const first = strict.safeParse(value);
  if (first.success) return first.data;
  for (const issue of first.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) warnings.push(`${joinPath(prefix, [...issue.path, key])}: unknown key, ignored`);
    } else {
      problems.push({ path: joinPath(prefix, issue.path), message: issue.message });
    }
  }
  if (problems.length > 0) return undefined;
  const second = loose.safeParse(value);
  return second.success ? second.data : undefined;
}

function resolveServer(
  name: string,
  raw: unknown,
  dir: string,
  key: string,
  problems: ConfigProblem[],
  warnings: string[],
): ServerConfig | undefined {
  const prefix = `${key}.${name}`;
  if (name.trim() === '') {
    problems.push({ path: prefix, message: 'a server name must not be empty' });
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ path: prefix, message: 'must be an object with "command" (a local server) or "url" (a remote server)' });
    return undefined;
  }
  const entry = raw as Record<string, unknown>;
  const hasCommand = 'command' in entry;
  const hasUrl = 'url' in entry;
  if (hasCommand === hasUrl) {
    problems.push({
      path: prefix,
      message: hasCommand
        ? 'has both "command" and "url"; a server is either local (command) or remote (url)'
        : 'needs "command" (a local server) or "url" (a remote server)',
    });
    return undefined;
  }
  const before = problems.length;
  const common = (parsed: {
    disabled?: boolean | undefined;
    tools?: { allow?: string[] | undefined; deny?: string[] | undefined } | undefined;
    timeouts?: Partial<typeof DEFAULT_TIMEOUTS> | undefined;
    restart?: Partial<typeof DEFAULT_RESTART> | undefined;
    roots?: (string | { uri: string; name?: string | undefined })[] | undefined;
  }) => ({
    name,
    disabled: parsed.disabled ?? false,
    roots: (parsed.roots ?? []).map((root) => {
      const { uri, name: rootName } = typeof root === 'string' ? { uri: root, name: undefined } : root;
      // A path (not a URI) is a folder relative to the config file.
      const full = /^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : pathToFileURL(resolve(dir, uri)).href;
      return rootName === undefined ? { uri: full } : { uri: full, name: rootName };
    }),
    tools: { allow: parsed.tools?.allow ?? [], deny: parsed.tools?.deny ?? [] },
    timeouts: { ...DEFAULT_TIMEOUTS, ...stripUndefined(parsed.timeouts ?? {}) },
    restart: { ...DEFAULT_RESTART, ...stripUndefined(parsed.restart ?? {}) },
  });
  if (hasCommand) {
    const parsed = parseTolerant(STRICT.stdio, LOOSE.stdio, entry, prefix, problems, warnings);
    if (!parsed || problems.length > before) return undefined;
    if (parsed.type && parsed.type !== 'stdio') {
      problems.push({ path: `${prefix}.type`, message: `is "${parsed.type}" but the server has a "command"` });
      return undefined;
    }
    const cwd = parsed.cwd === undefined ? dir : resolve(dir, parsed.cwd);
    return { ...common(parsed), transport: 'stdio', command: parsed.command, args: parsed.args ?? [], env: parsed.env ?? {}, cwd };
  }
  const parsed = parseTolerant(STRICT.http, LOOSE.http, entry, prefix, problems, warnings);
  if (!parsed || problems.length > before) return undefined;
  if (parsed.type === 'stdio') {
    problems.push({ path: `${prefix}.type`, message: 'is "stdio" but the server has a "url"' });
    return undefined;
  }
  const protocol = parsed.type === undefined ? 'auto' : parsed.type === 'sse' ? 'sse' : 'streamable-http';
  if (parsed.oauth?.clientSecret && !parsed.oauth.clientId) {
    problems.push({ path: `${prefix}.oauth.clientSecret`, message: 'needs oauth.clientId (the client the secret belongs to)' });
    return undefined;
  }
  return {
    ...common(parsed),
    transport: 'http',
    url: parsed.url,
    protocol,
    headers: parsed.headers ?? {},
    ...(parsed.oauth ? { oauth: stripUndefined(parsed.oauth) } : {}),
  };
}

function resolveChat(chat: {
  model?: string | undefined;
  maxTokens?: number | undefined;
  maxSteps?: number | undefined;
  system?: string | undefined;
  approval?:
    | 'auto'
    | { default?: ApprovalAction | undefined; allow?: string[] | undefined; ask?: string[] | undefined; deny?: string[] | undefined }
    | undefined;
  maxToolResultChars?: number | undefined;
  retention?: { maxAgeDays?: number | undefined; maxTotalMB?: number | undefined } | undefined;
  sampling?: SamplingRule | undefined;
}): ChatConfig {
  const { approval, retention, ...rest } = chat;
  const out: ChatConfig = stripUndefined(rest);
  if (retention) out.retention = stripUndefined(retention);
  if (approval === 'auto') out.approval = 'auto';
  else if (approval)
    out.approval = {
      default: approval.default ?? 'allow',
      allow: approval.allow ?? [],
      ask: approval.ask ?? [],
      deny: approval.deny ?? [],
    };
  return out;
}

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/**
 * Validates an already env-expanded config object.
 * `dir` is the folder relative paths (cwd) resolve against.
 */
export function validateConfig(raw: unknown, dir: string, file?: string): ValidationResult {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, problems: [{ path: '(root)', message: 'the config must be a JSON object' }], warnings };
  }
  // The top level and each server are checked separately, so that one run reports every problem.
  const top = parseTolerant(STRICT.top, LOOSE.top, raw, '', problems, warnings);
  const record = raw as Record<string, unknown>;
  if (record['servers'] !== undefined && record['mcpServers'] !== undefined) {
    problems.push({ path: 'mcpServers', message: 'use either "servers" or its alias "mcpServers", not both' });
  }
  const key = record['servers'] !== undefined ? 'servers' : 'mcpServers';
  const rawServers = record[key];
  const servers: Record<string, ServerConfig> = {};
  if (rawServers !== null && typeof rawServers === 'object' && !Array.isArray(rawServers)) {
    for (const [name, entry] of Object.entries(rawServers)) {
      const server = resolveServer(name, entry, dir, key, problems, warnings);
      if (server) servers[name] = server;
    }
    if (Object.keys(rawServers).length === 0) warnings.push(`${key}: no servers are configured`);
  } else if (rawServers === undefined) {
    warnings.push('servers: no servers are configured');
  }
  const http = top?.gateway?.http;
  if (http && !isLoopbackHost(http.host ?? '127.0.0.1') && http.token === undefined) {
    problems.push({
      path: 'gateway.http.token',
      message: `is required when gateway.http.host (${http.host}) is not loopback: anyone who can reach that address could drive every server`,
    });
  }
  for (const [profile, spec] of Object.entries(top?.gateway?.profiles ?? {})) {
    for (const [i, server] of (spec.servers ?? []).entries()) {
      if (!(server in servers))
        problems.push({ path: `gateway.profiles.${profile}.servers[${i}]`, message: `names no server in the config ("${server}")` });
    }
  }
  if (!top || problems.length > 0) return { ok: false, problems, warnings };
  const plugins: PluginSpec[] = (top.plugins ?? []).map((entry) =>
    typeof entry === 'string' ? { specifier: entry, options: {} } : { specifier: entry[0], options: entry[1] },
  );
  const gatewayHttp = top.gateway?.http;
  const config: ResolvedConfig = {
    ...(file === undefined ? {} : { file }),
    dir,
    servers,
    chat: resolveChat(top.chat ?? {}),
    plugins,
    gateway: {
      ...(gatewayHttp
        ? {
            http: {
              host: gatewayHttp.host ?? '127.0.0.1',
              port: gatewayHttp.port,
              ...(gatewayHttp.token ? { token: gatewayHttp.token } : {}),
            },
          }
        : {}),
      profiles: Object.fromEntries(
        Object.entries(top.gateway?.profiles ?? {}).map(([name, p]) => [
          name,
          { name, servers: p.servers ?? [], tools: { allow: p.tools?.allow ?? [], deny: p.tools?.deny ?? [] } },
        ]),
      ),
    },
    warnings,
  };
  return { ok: true, config, warnings };
}
