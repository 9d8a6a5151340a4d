/** All configured servers: applies a config (or the difference of a reload) and stops them all. */
import { EventEmitter } from 'eventemitter3';
import type { ConfigDiff } from '../config/diff.js';
import type { ResolvedConfig } from '../config/types.js';
import { McpdError } from '../errors.js';
import type { ServerStateEvent } from '../model.js';
import type { ConnectionDeps, ListKind, ServerLists } from './connection.js';
import { ManagedServer } from './managed-server.js';

export interface SupervisorEvents {
  state: (event: ServerStateEvent) => void;
  lists: (server: string, kind: ListKind, lists: ServerLists) => void;
  removed: (server: string) => void;
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly servers = new Map<string, ManagedServer>();

  constructor(
    private readonly deps: ConnectionDeps,
    private readonly random: () => number = Math.random,
  ) {
    super();
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
      throw new McpdError('MCPD_SERVER_UNKNOWN', `No server named "${name}" in the config (servers: ${known}).`, { server: name });
    }
    return server;
  }

  /** Starts every enabled server of `config` in parallel; resolves when each attempt settled. */
  async startAll(config: ResolvedConfig): Promise<void> {
    for (const server of Object.values(config.servers)) this.add(server);
    await Promise.allSettled(this.list().filter((s) => !s.config.disabled).map((s) => s.start()));
  }

  /** Applies a reload: start added, stop removed, restart changed, leave the rest untouched. */
  async apply(config: ResolvedConfig, diff: ConfigDiff): Promise<void> {
    const removals = diff.removed.map(async (name) => {
      const server = this.servers.get(name);
      if (!server) return;
      await server.stop();
      this.servers.delete(name);
      server.removeAllListeners();
      this.emit('removed', name);
    });
    const changes = diff.changed.map(async (name) => {
      const old = this.servers.get(name);
      if (old) {
        await old.stop();
        this.servers.delete(name);
        old.removeAllListeners();
      }
      const next = this.add(config.servers[name]!);
      if (!next.config.disabled) await next.start();
    });
    const additions = diff.added.map(async (name) => {
      const server = this.add(config.servers[name]!);
      if (!server.config.disabled) await server.start();
    });
    await Promise.allSettled([...removals, ...changes, ...additions]);
  }

  async stopAll(): Promise<void> {
    await Promise.allSettled(this.list().map((s) => s.stop()));
  }

  private add(config: ResolvedConfig['servers'][string]): ManagedServer {
    const server = new ManagedServer(config, this.deps, this.random);
    server.on('state', (event) => this.emit('state', event));
    server.on('lists', (name, kind, lists) => this.emit('lists', name, kind, lists));
    this.servers.set(config.name, server);
    return server;
  }
}
