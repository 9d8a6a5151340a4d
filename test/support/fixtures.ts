/** Building configs for tests: fixture servers with short timeouts, and temp homes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateConfig } from '../../src/config/validate.js';
import type { ResolvedConfig, ServerConfig } from '../../src/config/types.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture.mjs');
/** The CLI as users run it: the bundle npm's bin points at. */
export const CLI = join(ROOT, 'dist/bundle/mcpd.js');

export const FAST_TIMEOUTS = { startupMs: 20_000, callMs: 10_000, pingIntervalMs: 60_000, pingTimeoutMs: 1_000 };
export const FAST_RESTART = { maxRestarts: 5, windowMs: 60_000, initialDelayMs: 50, maxDelayMs: 200, resetAfterMs: 60_000 };

/** A raw config entry (as people write it) for the fixture server. */
export function fixtureEntry(env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [FIXTURE], env, timeouts: FAST_TIMEOUTS, restart: FAST_RESTART, ...extra };
}

export function resolveConfig(raw: Record<string, unknown>, dir = ROOT): ResolvedConfig {
  const result = validateConfig(raw, dir);
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export function serverConfig(name: string, entry: Record<string, unknown>): ServerConfig {
  return resolveConfig({ servers: { [name]: entry } }).servers[name]!;
}

/** A short temp folder (Unix socket paths are limited to ~104 bytes). */
export function tempDir(prefix = 'mcpd-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true, maxRetries: 5 }) };
}

export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A zombie (exited, not yet reaped) counts as gone. */
export { processAlive as pidAlive } from '../../src/util/proc.js';

/** A loopback port nobody listens on now (for servers that take a PORT). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A config entry for one of the MCP Apps servers from npm, run over stdio. */
export function appsServer(pkg: 'server-basic-vanillajs' | 'server-system-monitor'): Record<string, unknown> {
  return { command: process.execPath, args: [join(ROOT, 'node_modules/@modelcontextprotocol', pkg, 'dist/index.js'), '--stdio'] };
}

/** Our server of misbehaving Apps (test/fixtures/apps-server.mjs). */
export const BAD_APPS = { command: process.execPath, args: [join(ROOT, 'test/fixtures/apps-server.mjs')] };
