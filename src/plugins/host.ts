/**
 * Runs the configured plugins: loads them in order, calls their hooks with a timeout each, and
 * keeps the daemon standing whatever a plugin does. See api.ts for the order and failure policy.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { isValidName } from '../catalogue/naming.js';
import type { PluginSpec, ResolvedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { LogStore, Logger } from '../logs/store.js';
import type { PluginStatus, ToolEntry } from '../model.js';
import type { DaemonEvent, PluginContext, PluginDefinition, PluginHooks, ToolCall, ToolResult } from './api.js';
import { importPlugin } from './loader.js';

export const DEFAULT_HOOK_TIMEOUT_MS = 5_000;
const SETUP_TIMEOUT_MS = 10_000;

interface LoadedPlugin {
  spec: PluginSpec;
  name: string;
  /** Where its code lives, to tell its errors from the daemon's. */
  location: string;
  hooks: PluginHooks;
  timeoutMs: number;
  log: Logger;
  failures: number;
  lastError: PluginStatus['lastError'];
  unsubscribers: (() => void)[];
}

interface FailedPlugin {
  spec: PluginSpec;
  error: string;
}

class HookTimeout extends Error {}

async function withTimeout<T>(work: () => T | Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(work),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HookTimeout(`did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function canonical(specs: PluginSpec[]): string {
  return JSON.stringify(specs);
}

export interface PluginHostDeps {
  home: string;
  logs: LogStore;
  config: () => ResolvedConfig;
}

export class PluginHost {
  private plugins: LoadedPlugin[] = [];
  private failed: FailedPlugin[] = [];
  private loadedSpecs = '[]';
  private readonly bus = new EventEmitter<{ event: (event: DaemonEvent) => void }>();
  private readonly log: Logger;

  constructor(private readonly deps: PluginHostDeps) {
    this.log = deps.logs.logger('daemon');
  }

  get count(): number {
    return this.plugins.length;
  }

  status(): PluginStatus[] {
    const loaded = this.plugins.map((p): PluginStatus => ({
      name: p.name,
      specifier: p.spec.specifier,
      state: 'loaded',
      hooks: Object.keys(p.hooks).filter((k) => typeof p.hooks[k as keyof PluginHooks] === 'function'),
      error: null,
      failures: p.failures,
      lastError: p.lastError,
    }));
    const failed = this.failed.map((f): PluginStatus => ({ name: f.spec.specifier, specifier: f.spec.specifier, state: 'failed', hooks: [], error: f.error, failures: 0, lastError: null }));
    return [...loaded, ...failed];
  }

  /** Loads the list (in order) if it differs from what is loaded; returns whether anything changed. */
  async apply(specs: PluginSpec[], configDir: string): Promise<boolean> {
    if (canonical(specs) === this.loadedSpecs) return false;
    await this.disposeAll();
    this.loadedSpecs = canonical(specs);
    for (const spec of specs) await this.load(spec, configDir);
    return true;
  }

  private async load(spec: PluginSpec, configDir: string): Promise<void> {
    let definition: PluginDefinition;
    try {
      definition = await withTimeout(() => importPlugin(spec.specifier, configDir), SETUP_TIMEOUT_MS);
    } catch (error) {
      this.fail(spec, `cannot load ${spec.specifier}: ${errorMessage(error)}`);
      return;
    }
    const name = definition.name;
    const dataDir = join(this.deps.home, 'plugins', name.replace(/[^a-zA-Z0-9_.-]/g, '_'));
    const log = this.deps.logs.logger(`plugin:${name}`);
    const unsubscribers: (() => void)[] = [];
    const config = this.deps.config;
    const ctx: PluginContext = {
      name,
      log,
      // Live: after a reload that keeps the plugin list, plugins see the new config.
      get config() {
        return config();
      },
      dataDir,
      events: {
        on: (type, listener) => {
          const wrapped = (event: DaemonEvent) => {
            if (type !== '*' && event.type !== type) return;
            try {
              const out = (listener as (e: DaemonEvent) => unknown)(event);
              if (out instanceof Promise) out.catch((error: unknown) => log.error(`event listener failed: ${errorMessage(error)}`));
            } catch (error) {
              log.error(`event listener failed: ${errorMessage(error)}`);
            }
          };
          this.bus.on('event', wrapped);
          const off = () => void this.bus.off('event', wrapped);
          unsubscribers.push(off);
          return off;
        },
      },
    };
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const hooks = (await withTimeout(() => definition.setup(ctx, spec.options), definition.timeoutMs ?? SETUP_TIMEOUT_MS)) ?? {};
      this.plugins.push({ spec, name, location: pluginLocation(spec.specifier, configDir), hooks, timeoutMs: definition.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS, log, failures: 0, lastError: null, unsubscribers });
      this.log.info(`plugin ${name} loaded from ${spec.specifier}`);
    } catch (error) {
      for (const off of unsubscribers) off();
      this.fail(spec, `plugin ${name} (${spec.specifier}) failed in setup: ${errorMessage(error)}`);
    }
  }

  private fail(spec: PluginSpec, error: string): void {
    this.failed.push({ spec, error });
    this.log.error(error);
  }

  /** Runs one hook of one plugin under its timeout; a failure is recorded and logged, then rethrown. */
  private async run<T>(plugin: LoadedPlugin, hook: keyof PluginHooks, work: () => T | Promise<T>): Promise<T> {
    try {
      return await withTimeout(work, plugin.timeoutMs);
    } catch (error) {
      plugin.failures += 1;
      const message = errorMessage(error);
      plugin.lastError = { hook, message, time: new Date().toISOString() };
      this.log.error(`plugin ${plugin.name}: ${hook} failed: ${message}`);
      throw error;
    }
  }

  /**
   * The plugin an error that escaped every hook (thrown from a plugin's own timer, say) came
   * from, by its stack; undefined when it is not a plugin's.
   */
  attribute(error: unknown): string | undefined {
    const stack = error instanceof Error ? (error.stack ?? '') : '';
    const plugin = this.plugins.find((p) => stack.includes(p.location));
    if (!plugin) return undefined;
    plugin.failures += 1;
    plugin.lastError = { hook: 'outside a hook', message: errorMessage(error), time: new Date().toISOString() };
    return plugin.name;
  }

  /** In sequence; a plugin whose hook fails or returns something invalid has its change skipped. */
  async transformCatalogue(tools: ToolEntry[]): Promise<ToolEntry[]> {
    let current = tools;
    for (const plugin of this.plugins) {
      const hook = plugin.hooks.catalogue;
      if (!hook) continue;
      try {
        const input = current.map((t) => ({ ...t }));
        const next = await this.run(plugin, 'catalogue', () => hook.call(plugin.hooks, input));
        const problem = invalidCatalogue(next);
        if (problem) {
          plugin.failures += 1;
          plugin.lastError = { hook: 'catalogue', message: problem, time: new Date().toISOString() };
          this.log.error(`plugin ${plugin.name}: catalogue returned ${problem}; its change is skipped`);
          continue;
        }
        current = next;
      } catch {
        // logged by run(); the change is skipped
      }
    }
    return current;
  }

  /** In sequence; the first deny wins. A failing plugin denies the call: it may be a guard. */
  async beforeToolCall(call: ToolCall): Promise<ToolCall | { deny: string }> {
    let current = call;
    for (const plugin of this.plugins) {
      const hook = plugin.hooks.beforeToolCall;
      if (!hook) continue;
      let outcome: Awaited<ReturnType<NonNullable<PluginHooks['beforeToolCall']>>>;
      try {
        outcome = await this.run(plugin, 'beforeToolCall', () => hook.call(plugin.hooks, { ...current, arguments: structuredClone(current.arguments) }));
      } catch (error) {
        return { deny: `plugin ${plugin.name} failed while checking the call (${errorMessage(error)}), so the call was denied` };
      }
      if (outcome === undefined || outcome === null) continue;
      if ('deny' in outcome) return { deny: `plugin ${plugin.name} denied the call: ${outcome.deny}` };
      if (typeof outcome.arguments !== 'object' || outcome.arguments === null || Array.isArray(outcome.arguments)) {
        return { deny: `plugin ${plugin.name} returned a call without an arguments object, so the call was denied` };
      }
      // Only the arguments may change: the target and the caller stay what they were.
      current = { ...current, arguments: outcome.arguments };
    }
    return current;
  }

  /** In sequence; a plugin that fails has its change skipped. */
  async afterToolCall(call: ToolCall, result: ToolResult): Promise<ToolResult> {
    let current = result;
    for (const plugin of this.plugins) {
      const hook = plugin.hooks.afterToolCall;
      if (!hook) continue;
      try {
        const next = await this.run(plugin, 'afterToolCall', () => hook.call(plugin.hooks, call, structuredClone(current)));
        if (next === undefined || next === null) continue;
        if (!Array.isArray((next as ToolResult).content)) {
          plugin.lastError = { hook: 'afterToolCall', message: 'returned a result without a content list', time: new Date().toISOString() };
          this.log.error(`plugin ${plugin.name}: afterToolCall returned a result without a content list; its change is skipped`);
          continue;
        }
        current = next;
      } catch {
        // logged by run(); the change is skipped
      }
    }
    return current;
  }

  /** In parallel, fire-and-forget. */
  emit(event: DaemonEvent): void {
    this.bus.emit('event', event);
    for (const plugin of this.plugins) {
      const hook = plugin.hooks.onEvent;
      if (!hook) continue;
      this.run(plugin, 'onEvent', () => hook.call(plugin.hooks, event)).catch(() => undefined);
    }
  }

  async disposeAll(): Promise<void> {
    const plugins = this.plugins;
    this.plugins = [];
    this.failed = [];
    this.loadedSpecs = '[]';
    await Promise.allSettled(
      plugins.map(async (plugin) => {
        for (const off of plugin.unsubscribers) off();
        const hook = plugin.hooks.dispose;
        if (hook) await this.run(plugin, 'dispose', () => hook.call(plugin.hooks)).catch(() => undefined);
      }),
    );
  }
}

/** A path plugin's file, or a package plugin's folder under node_modules, as stacks show it. */
function pluginLocation(specifier: string, configDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return resolve(configDir, specifier);
  return `${sep}node_modules${sep}${specifier}${sep}`;
}

function invalidCatalogue(tools: unknown): string | undefined {
  if (!Array.isArray(tools)) return 'something that is not a list';
  const seen = new Set<string>();
  for (const tool of tools as ToolEntry[]) {
    if (!tool || typeof tool.name !== 'string' || typeof tool.server !== 'string' || typeof tool.originalName !== 'string') return 'an entry without name, server or originalName';
    if (!isValidName(tool.name)) return `an invalid tool name "${tool.name}" (must match ^[a-zA-Z0-9_-]{1,64}$)`;
    if (seen.has(tool.name)) return `the tool name "${tool.name}" twice`;
    seen.add(tool.name);
  }
  return undefined;
}
