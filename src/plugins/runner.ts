/**
 * Runs the configured plugins: loads them in order, calls their hooks with a timeout each, and
 * keeps the daemon standing whatever a plugin does. See api.ts for the order and failure policy.
 */
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { isValidName } from '../catalogue/naming.js';
import type { PluginSpec, ResolvedConfig } from '../config/types.js';
import { McpdError, errorMessage } from '../errors.js';
import type { LogStore, Logger } from '../logs/store.js';
import type { PluginStatus, ToolEntry } from '../protocol/types.js';
import type {
  DaemonEvent,
  PluginDefinition,
  PluginHooks,
  PromptGet,
  PromptGetResult,
  ResourceRead,
  ResourceReadResult,
  ToolCall,
  ToolResult,
} from './api.js';
import { pluginContext } from './context.js';
import { importPlugin } from './loader.js';
import { canonicalJson } from '../util/canonical.js';
import { withTimeout } from '../util/time.js';

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
  /** It guarded tool calls when it last loaded: until it loads again, calls are denied. */
  guard: boolean;
}

/** A hook, or a plugin's setup, that ran out of time counts as failing. */
function hookTimeout(ms: number): () => Error {
  return () => new McpdError('MCPD_TIMEOUT', `did not finish within ${ms} ms`);
}

export interface PluginRunnerDeps {
  home: string;
  logs: LogStore;
  config: () => ResolvedConfig;
}

export class PluginRunner {
  private plugins: LoadedPlugin[] = [];
  private failed: FailedPlugin[] = [];
  private loadedSpecs = '[]';
  private closed = false;
  private readonly bus = new EventEmitter<{ event: (event: DaemonEvent) => void }>();
  private readonly log: Logger;

  constructor(private readonly deps: PluginRunnerDeps) {
    this.log = deps.logs.logger('daemon');
  }

  get count(): number {
    return this.plugins.length;
  }

  /** Whether any loaded plugin has this hook: a call skips dispatch (and its promises) when none has. */
  has(hook: keyof PluginHooks): boolean {
    return this.plugins.some((p) => typeof p.hooks[hook] === 'function');
  }

  /** Whether an event would reach anyone (a plugin's onEvent or a listener it registered). */
  get observed(): boolean {
    return this.bus.listenerCount('event') > 0 || this.has('onEvent');
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
    const failed = this.failed.map((f): PluginStatus => ({
      name: f.spec.specifier,
      specifier: f.spec.specifier,
      state: 'failed',
      hooks: [],
      error: f.guard ? `${f.error} (it guards tool calls: calls are denied until it loads)` : f.error,
      failures: 0,
      lastError: null,
    }));
    return [...loaded, ...failed];
  }

  /**
   * Loads the list (in order) if it differs from what is loaded; returns whether anything changed.
   * The new list loads first and then replaces the old one, which is disposed last: calls are
   * never without their guards in between.
   */
  async apply(specs: PluginSpec[], configDir: string): Promise<boolean> {
    if (this.closed || canonicalJson(specs) === this.loadedSpecs) return false;
    const loaded: LoadedPlugin[] = [];
    const failed: FailedPlugin[] = [];
    for (const spec of specs) {
      const outcome = await this.load(spec, configDir);
      if ('hooks' in outcome) loaded.push(outcome);
      else failed.push(outcome);
    }
    if (this.closed) {
      await this.dispose(loaded);
      return false;
    }
    const previous = this.plugins;
    // A plugin that guarded calls and now fails to load keeps guarding: calls fail closed.
    for (const f of failed) {
      const before =
        previous.find((p) => p.spec.specifier === f.spec.specifier) ?? this.failed.find((p) => p.spec.specifier === f.spec.specifier);
      f.guard = before !== undefined && ('hooks' in before ? typeof before.hooks.beforeToolCall === 'function' : before.guard);
    }
    this.plugins = loaded;
    this.failed = failed;
    this.loadedSpecs = canonicalJson(specs);
    await this.dispose(previous);
    return true;
  }

  private async load(spec: PluginSpec, configDir: string): Promise<LoadedPlugin | FailedPlugin> {
    let definition: PluginDefinition;
    try {
      definition = await withTimeout(() => importPlugin(spec.specifier, configDir), SETUP_TIMEOUT_MS, hookTimeout(SETUP_TIMEOUT_MS));
    } catch (error) {
      return this.failure(spec, `cannot load ${spec.specifier}: ${errorMessage(error)}`);
    }
    const name = definition.name;
    const dataDir = join(this.deps.home, 'plugins', name.replace(/[^a-zA-Z0-9_.-]/g, '_'));
    const log = this.deps.logs.logger(`plugin:${name}`);
    const unsubscribers: (() => void)[] = [];
    const ctx = pluginContext({ name, log, dataDir, config: this.deps.config, bus: this.bus, unsubscribers });
    try {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const hooks =
        (await withTimeout(
          () => definition.setup(ctx, spec.options),
          definition.timeoutMs ?? SETUP_TIMEOUT_MS,
          hookTimeout(definition.timeoutMs ?? SETUP_TIMEOUT_MS),
        )) ?? {};
      this.log.info(`plugin ${name} loaded from ${spec.specifier}`);
      return {
        spec,
        name,
        location: pluginLocation(spec.specifier, configDir),
        hooks,
        timeoutMs: definition.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
        log,
        failures: 0,
        lastError: null,
        unsubscribers,
      };
    } catch (error) {
      for (const off of unsubscribers) off();
      return this.failure(spec, `plugin ${name} (${spec.specifier}) failed in setup: ${errorMessage(error)}`);
    }
  }

  private failure(spec: PluginSpec, error: string): FailedPlugin {
    this.log.error(error);
    return { spec, error, guard: false };
  }

  /** Runs one hook of one plugin under its timeout; a failure is recorded and logged, then rethrown. */
  private async run<T>(plugin: LoadedPlugin, hook: keyof PluginHooks, work: () => T | Promise<T>): Promise<T> {
    try {
      return await withTimeout(work, plugin.timeoutMs, hookTimeout(plugin.timeoutMs));
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
    const down = this.guardDown();
    if (down) return { deny: down.message };
    return this.runBefore('beforeToolCall', call, (c) => ({ ...c, arguments: structuredClone(c.arguments) }), 'arguments');
  }

  /** In sequence; a plugin that fails has its change skipped. */
  afterToolCall(call: ToolCall, result: ToolResult): Promise<ToolResult> {
    return this.runAfter('afterToolCall', call, result, (r) => Array.isArray(r.content), 'a result without a content list');
  }

  /** As beforeToolCall: the first deny wins, a failing plugin denies. */
  async beforeResourceRead(read: ResourceRead): Promise<ResourceRead | { deny: string }> {
    return this.runBefore('beforeResourceRead', read, (r) => ({ ...r }), undefined);
  }

  afterResourceRead(read: ResourceRead, result: ResourceReadResult): Promise<ResourceReadResult> {
    return this.runAfter('afterResourceRead', read, result, (r) => Array.isArray(r.contents), 'a result without a contents list');
  }

  /** As beforeToolCall: the first deny wins, a failing plugin denies; arguments may be rewritten. */
  async beforePromptGet(get: PromptGet): Promise<PromptGet | { deny: string }> {
    return this.runBefore('beforePromptGet', get, (g) => ({ ...g, arguments: { ...g.arguments } }), 'arguments');
  }

  afterPromptGet(get: PromptGet, result: PromptGetResult): Promise<PromptGetResult> {
    return this.runAfter('afterPromptGet', get, result, (r) => Array.isArray(r.messages), 'a result without a messages list');
  }

  /** The first guard plugin that failed to load, as the error calls get while it is down. */
  guardDown(): McpdError | undefined {
    const down = this.failed.find((f) => f.guard);
    if (!down) return undefined;
    return new McpdError(
      'MCPD_PLUGIN_UNAVAILABLE',
      `the plugin ${down.spec.specifier} guards tool calls but failed to load (${down.error}); calls are denied until it loads (fix it, then mcpd reload)`,
    );
  }

  /**
   * Runs a before-hook of every plugin in order. A deny, a failure, or (where `rewritable` names
   * a field) a returned value without that field as an object, ends the run with a deny.
   */
  private async runBefore<T extends object>(
    hook: 'beforeToolCall' | 'beforeResourceRead' | 'beforePromptGet',
    input: T,
    copy: (value: T) => T,
    rewritable: 'arguments' | undefined,
  ): Promise<T | { deny: string }> {
    const noun = hook === 'beforeToolCall' ? 'call' : hook === 'beforeResourceRead' ? 'read' : 'prompt get';
    let current = input;
    for (const plugin of this.plugins) {
      const fn = plugin.hooks[hook] as ((value: T) => unknown) | undefined;
      if (!fn) continue;
      let outcome: unknown;
      try {
        outcome = await this.run(plugin, hook, () => fn.call(plugin.hooks, copy(current)));
      } catch (error) {
        return { deny: `plugin ${plugin.name} failed while checking the ${noun} (${errorMessage(error)}), so the ${noun} was denied` };
      }
      if (outcome === undefined || outcome === null) continue;
      if (typeof outcome === 'object' && 'deny' in outcome)
        return { deny: `plugin ${plugin.name} denied the ${noun}: ${String(outcome.deny)}` };
      if (!rewritable) continue;
      const value = (outcome as Record<string, unknown>)[rewritable];
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return { deny: `plugin ${plugin.name} returned a ${noun} without an ${rewritable} object, so the ${noun} was denied` };
      }
      // Only the arguments may change: the target and the caller stay what they were.
      current = { ...current, [rewritable]: value };
    }
    return current;
  }

  /** Runs an after-hook of every plugin in order; a failing or invalid change is skipped. */
  private async runAfter<C, R>(
    hook: 'afterToolCall' | 'afterResourceRead' | 'afterPromptGet',
    input: C,
    result: R,
    valid: (value: R) => boolean,
    invalid: string,
  ): Promise<R> {
    let current = result;
    for (const plugin of this.plugins) {
      const fn = plugin.hooks[hook] as ((input: C, result: R) => unknown) | undefined;
      if (!fn) continue;
      try {
        const next = (await this.run(plugin, hook, () => fn.call(plugin.hooks, input, structuredClone(current)))) as R | undefined | null;
        if (next === undefined || next === null) continue;
        if (!valid(next)) {
          plugin.lastError = { hook, message: `returned ${invalid}`, time: new Date().toISOString() };
          this.log.error(`plugin ${plugin.name}: ${hook} returned ${invalid}; its change is skipped`);
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

  /** Disposes every plugin for good (daemon stop): later applies load nothing. */
  async close(): Promise<void> {
    this.closed = true;
    const plugins = this.plugins;
    this.plugins = [];
    this.failed = [];
    this.loadedSpecs = '[]';
    await this.dispose(plugins);
  }

  private async dispose(plugins: LoadedPlugin[]): Promise<void> {
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
    if (!tool || typeof tool.name !== 'string' || typeof tool.server !== 'string' || typeof tool.originalName !== 'string')
      return 'an entry without name, server or originalName';
    if (!isValidName(tool.name)) return `an invalid tool name "${tool.name}" (must match ^[a-zA-Z0-9_-]{1,64}$)`;
    if (seen.has(tool.name)) return `the tool name "${tool.name}" twice`;
    seen.add(tool.name);
  }
  return undefined;
}
