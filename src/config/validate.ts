/**
 * Validation of what people write (UserConfig) into ResolvedConfig, with the schema (schema.ts).
 * Every problem names its path (`servers.github.env.TOKEN: ...`). Unknown keys are warnings, not
 * errors, so that Claude Desktop and Claude Code files (which carry keys of their own) load as is.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { isLoopbackHost } from '../util/loopback.js';
import { DEFAULT_LAZY_IDLE_STOP_MS, LOOSE, STRICT } from './schema.js';
import type { ChatConfig, PluginSpec, ResolvedConfig, ServerConfig } from './types.js';

export interface ConfigProblem {
  path: string;
  message: string;
}

export type ValidationResult =
  { ok: true; config: ResolvedConfig; warnings: string[] } | { ok: false; problems: ConfigProblem[]; warnings: string[] };

function joinPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

/** Parses strictly to find unknown keys (warnings), then loosely for the value. */
function parseTolerant<S extends z.ZodType>(
  strict: S,
  loose: S,
  value: unknown,
  prefix: string,
  problems: ConfigProblem[],
  warnings: string[],
): z.output<S> | undefined {
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

function stripUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

/** A root is a URI, or a folder path relative to the config file. */
/** A lazy server stops when idle unless told how long; an eager one only when told. */
function idleStop(start: 'eager' | 'lazy', idleStopMs: number | undefined): number | null {
  return idleStopMs ?? (start === 'lazy' ? DEFAULT_LAZY_IDLE_STOP_MS : null);
}

function resolveRoots(roots: (string | { uri: string; name?: string | undefined })[], dir: string): { uri: string; name?: string }[] {
  return roots.map((root) => {
    const { uri, name } = typeof root === 'string' ? { uri: root, name: undefined } : root;
    const full = /^[a-z][a-z0-9+.-]*:/i.test(uri) ? uri : pathToFileURL(resolve(dir, uri)).href;
    return name === undefined ? { uri: full } : { uri: full, name };
  });
}

/** Keys of `defaults` merged field by field with a server's own (the rest: the server's own wins whole). */
const MERGED_BY_FIELD = new Set(['tools', 'timeouts', 'restart']);

/** A server's entry with the config's `defaults` under it. */
function withDefaults(defaults: Record<string, unknown> | undefined, entry: unknown): unknown {
  if (!defaults || entry === null || typeof entry !== 'object' || Array.isArray(entry)) return entry;
  const own = entry as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...defaults, ...own };
  for (const key of MERGED_BY_FIELD) {
    const base = defaults[key];
    const mine = own[key];
    if (base && typeof base === 'object' && mine && typeof mine === 'object' && !Array.isArray(mine)) merged[key] = { ...base, ...mine };
  }
  return merged;
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
  if (hasCommand) {
    const parsed = parseTolerant(STRICT.stdio, LOOSE.stdio, entry, prefix, problems, warnings);
    if (!parsed || problems.length > before) return undefined;
    const { type, cwd, roots, idleStopMs, ...rest } = parsed;
    if (type && type !== 'stdio') {
      problems.push({ path: `${prefix}.type`, message: `is "${type}" but the server has a "command"` });
      return undefined;
    }
    return {
      ...rest,
      name,
      transport: 'stdio',
      roots: resolveRoots(roots, dir),
      cwd: cwd === undefined ? dir : resolve(dir, cwd),
      idleStopMs: idleStop(rest.start, idleStopMs),
    };
  }
  const parsed = parseTolerant(STRICT.http, LOOSE.http, entry, prefix, problems, warnings);
  if (!parsed || problems.length > before) return undefined;
  const { type, roots, oauth, idleStopMs, ...rest } = parsed;
  if (type === 'stdio') {
    problems.push({ path: `${prefix}.type`, message: 'is "stdio" but the server has a "url"' });
    return undefined;
  }
  if (oauth?.clientSecret && !oauth.clientId) {
    problems.push({ path: `${prefix}.oauth.clientSecret`, message: 'needs oauth.clientId (the client the secret belongs to)' });
    return undefined;
  }
  return {
    ...rest,
    name,
    transport: 'http',
    wire: type === undefined ? 'auto' : type === 'sse' ? 'sse' : 'streamable-http',
    roots: resolveRoots(roots, dir),
    idleStopMs: idleStop(rest.start, idleStopMs),
    ...(oauth ? { oauth: stripUndefined(oauth) } : {}),
  };
}

function resolveChat(chat: ChatConfig): ChatConfig {
  const { retention, ...rest } = chat;
  const out: ChatConfig = stripUndefined(rest);
  if (retention) out.retention = stripUndefined(retention);
  return out;
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
    // The defaults as written (checked with the top level, so their problems name defaults.*).
    const defaults = top ? (record['defaults'] as Record<string, unknown> | undefined) : undefined;
    for (const [name, entry] of Object.entries(rawServers)) {
      const server = resolveServer(name, withDefaults(defaults, entry), dir, key, problems, warnings);
      if (server) servers[name] = server;
    }
    if (Object.keys(rawServers).length === 0) warnings.push(`${key}: no servers are configured`);
  } else if (rawServers === undefined) {
    warnings.push('servers: no servers are configured');
  }
  const http = top?.gateway.http;
  if (http && !isLoopbackHost(http.host) && http.token === undefined) {
    problems.push({
      path: 'gateway.http.token',
      message: `is required when gateway.http.host (${http.host}) is not loopback: anyone who can reach that address could drive every server`,
    });
  }
  for (const [profile, spec] of Object.entries(top?.gateway.profiles ?? {})) {
    for (const [i, server] of spec.servers.entries()) {
      if (!(server in servers))
        problems.push({ path: `gateway.profiles.${profile}.servers[${i}]`, message: `names no server in the config ("${server}")` });
    }
  }
  if (!top || problems.length > 0) return { ok: false, problems, warnings };
  const plugins: PluginSpec[] = top.plugins.map((entry) =>
    typeof entry === 'string' ? { specifier: entry, options: {} } : { specifier: entry[0], options: entry[1] },
  );
  const config: ResolvedConfig = {
    ...(file === undefined ? {} : { file }),
    dir,
    servers,
    chat: resolveChat(top.chat),
    plugins,
    gateway: {
      ...(http ? { http: stripUndefined(http) } : {}),
      maxNameLength: top.gateway.maxNameLength,
      profiles: Object.fromEntries(Object.entries(top.gateway.profiles).map(([name, p]) => [name, { name, ...p }])),
    },
    ui: top.ui,
    warnings,
  };
  return { ok: true, config, warnings };
}
