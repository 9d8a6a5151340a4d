/** All configured servers: applies a config (or the difference of a reload) and stops them all. */
import { StartGate } from './start-gate.js';
import type { ConfigDiff } from '../config/diff.js';
import type { ResolvedConfig } from '../config/types.js';
import { McpdError } from '../errors.js';
import type { ServerStateEvent } from '../protocol/types.js';
import { GuardedEmitter } from '../util/emitter.js';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { maskServerConfig } from '../config/mask.js';
import type { ServerAction, ServersPort } from '../ports/servers.js';
import type { ServerStatus } from '../protocol/types.js';
import type { ListKind, ServerLists, UpstreamDeps } from '../upstream/types.js';
import { closestWord } from '../util/suggest.js';
import { ManagedServer } from './managed-server.js';
import type { CatalogueMemory } from './memory.js';

export interface SupervisorEvents {
  state: (event: ServerStateEvent) => void;
  lists: (server: string, kind: ListKind, lists: ServerLists) => void;
  removed: (server: string) => void;
  'resource:updated': (server: string, uri: string) => void;
}

export class Supervisor extends GuardedEmitter<SupervisorEvents> implements ServersPort {
  private readonly servers = new Map<string, ManagedServer>();
  private closed = false;

  constructor(
    private readonly deps: UpstreamDeps,
    private readonly random: () => number = Math.random,
    /** Every start of its servers (first, restart, reload) goes through it. */
    readonly gate: StartGate = new StartGate(),
    /** Lazy servers' catalogues between runs (memory.ts); without it every server starts. */
    readonly memory?: CatalogueMemory,
  ) {
    super((error, event) =>
      deps.logs.append(
        'daemon',
        'daemon',
        'error',
        `a listener of supervisor "${event}" failed: ${(error as Error)?.message ?? String(error)}`,
      ),
    );
  }

  list(): ManagedServer[] {
    return [...this.servers.values()];
  }

  has(name: string): boolean {
    return this.servers.has(name);
  }

  get(name: string): ManagedServer {
    const server = this.servers.get(name);
    if (!server) {
      const known = [...this.servers.keys()].join(', ') || 'none';
      const guess = closestWord(name, [...this.servers.keys()]);
      throw new McpdError(
        'MCPD_SERVER_UNKNOWN',
        `No server named "${name}" in the config${guess ? `; did you mean "${guess}"?` : ''} (servers: ${known}).`,
        { server: name },
      );
    }
    return server;
  }

  async act(name: string, action: ServerAction): Promise<ServerStatus> {
    const server = this.get(name);
    await server[action]();
    return server.status();
  }

  assertKnown(name: string): void {
    this.get(name);
  }

  maskedConfig(name: string): Record<string, unknown> {
    return maskServerConfig(this.get(name).config);
  }

  /** The servers that answer requests: running, or idle (woken by the first; what they said when they last ran). */
  available(): { name: string; capabilities: ServerCapabilities; instructions?: string }[] {
    return this.list().flatMap((s) => {
      const capabilities = s.capabilities();
      const instructions = s.instructions();
      return capabilities ? [{ name: s.name, capabilities, ...(instructions ? { instructions } : {}) }] : [];
    });
  }

  /**
   * Starts every enabled server of `config` in parallel (a lazy one with a remembered catalogue
   * waits idle instead); resolves when each settled.
   */
  async startAll(config: ResolvedConfig): Promise<void> {
    this.assertOpen();
    for (const server of Object.values(config.servers)) this.add(server);
    await Promise.allSettled(
      this.list()
        .filter((s) => !s.config.disabled)
        .map((s) => s.begin()),
    );
  }

  /** Applies a reload: start added, stop removed, restart changed, leave the rest untouched. */
  async apply(config: ResolvedConfig, diff: ConfigDiff): Promise<void> {
    this.assertOpen();
    // The config wins a name a chat's server holds: that one goes first (the chat is told by its state).
    await Promise.allSettled(
      diff.added.map(async (name) => {
        const held = this.servers.get(name);
        if (!held?.config.ephemeral) return;
        this.deps.logs.append(name, 'daemon', 'warn', `the config now names a server "${name}": the chat's server of that name is stopped`);
        await this.remove(held);
      }),
    );
    const removals = diff.removed.map(async (name) => {
      const server = this.servers.get(name);
      if (server) await this.remove(server);
    });
    const changes = diff.changed.map(async (name) => {
      const old = this.servers.get(name);
      if (old) await this.remove(old);
      if (this.closed) return;
      const next = this.add(config.servers[name]!);
      if (!next.config.disabled) await next.begin();
    });
    const additions = diff.added.map(async (name) => {
      const server = this.add(config.servers[name]!);
      if (!server.config.disabled) await server.begin();
    });
    await Promise.allSettled([...removals, ...changes, ...additions]);
  }

  /**
   * Adds a server a chat brought (never in the config) under a name no server has: `weather`,
   * else `weather-2`, ... Resolves once its first start settled; one that did not come up is
   * removed again and its error thrown.
   */
  async addEphemeral(config: ResolvedConfig['servers'][string]): Promise<ManagedServer> {
    let name = config.name;
    for (let n = 2; this.servers.has(name); n++) name = `${config.name}-${n}`;
    const server = this.add({ ...config, name });
    await server.start();
    const status = server.status();
    if (status.state === 'running') return server;
    const why = status.lastError?.message ?? `it is ${status.state}`;
    await this.remove(server);
    throw new McpdError('MCPD_SERVER_INIT_FAILED', why, { server: name, details: { script: config.ephemeral?.script ?? null } });
  }

  /** Stops and forgets a server a chat brought; a configured server is left alone. */
  async removeEphemeral(name: string): Promise<void> {
    const server = this.servers.get(name);
    if (server?.config.ephemeral) await this.remove(server);
  }

  /** Stops every server for good: after this no server can be added or started. */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.list().map((s) => s.dispose()));
  }

  private assertOpen(): void {
    if (this.closed) throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; it starts no servers.');
  }

  /** Disposes a server (its final state refuses any later start), then forgets it. */
  private async remove(server: ManagedServer): Promise<void> {
    // Out of the table first: a start that races the removal finds no server, or a disposed one.
    if (this.servers.get(server.name) === server) this.servers.delete(server.name);
    await server.dispose().catch(() => undefined);
    server.removeAllListeners();
    this.emit('removed', server.name);
  }

  private add(config: ResolvedConfig['servers'][string]): ManagedServer {
    this.assertOpen();
    const server = new ManagedServer(config, this.deps, this.random, this.gate, this.memory);
    server.on('state', (event) => this.emit('state', event));
    server.on('lists', (name, kind, lists) => this.emit('lists', name, kind, lists));
    server.on('resource:updated', (name, uri) => this.emit('resource:updated', name, uri));
    this.servers.set(config.name, server);
    return server;
  }
}
