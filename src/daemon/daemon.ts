/**
 * The composition root: makes the parts, hands each front the ports it uses, and owns start
 * and stop order. Config → plugins → supervisor → catalogue → fronts; stop in reverse. One
 * daemon per MCPD_HOME.
 */
import { mergeInstructions } from '../util/instructions.js';
import { rm } from 'node:fs/promises';
import { Catalogue } from '../catalogue/catalogue.js';
import { PublishedCatalogue } from '../catalogue/published.js';
import { Chat } from '../chat/chat.js';
import type { ConfigDiff } from '../config/diff.js';
import { emptyConfig, loadConfig } from '../config/load.js';
import { configSecrets } from '../config/mask.js';
import type { ProfileConfig, ResolvedConfig } from '../config/types.js';
import { McpdError, errorMessage, isMcpdError } from '../errors.js';
import { reclaimSoon } from '../hotpath/reclaim.js';
import { claimSocket } from '../home/claim.js';
import { lockHome, type HomeLock } from '../home/lock.js';
import { ensureHome, homePaths, type HomePaths } from '../home/paths.js';
import { LogStore, type Logger } from '../logs/store.js';
import { PluginRunner } from '../plugins/runner.js';
import type { DaemonPort } from '../ports/daemon.js';
import type { Front, Ports } from '../ports/index.js';
import { PROTOCOL_VERSION } from '../protocol/control.js';
import type { DaemonStatus, LogEntry, ReloadResult, ServerStatus } from '../protocol/types.js';
import { ToolRouter } from '../routing/router.js';
import { ServerRequestBridge } from '../routing/server-requests.js';
import { ServerAuth } from '../supervisor/server-auth.js';
import { EphemeralServers } from '../supervisor/ephemeral.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { CatalogueMemory } from '../supervisor/memory.js';
import { StartGate } from '../supervisor/start-gate.js';
import { SignIns } from '../upstream/http/auth/sign-in.js';
import { AuthStore } from '../upstream/http/auth/store.js';
import { ChildRegistry } from '../upstream/stdio/reaper.js';
import { preloadUpstreams } from '../upstream/open.js';
import { writeFileAtomicAsync } from '../util/files.js';
import { setSecrets } from '../util/secrets.js';
import { withTimeout } from '../util/time.js';
import { VERSION } from '../version.js';
import { plural } from '../util/plural.js';
import { ClientRegistry } from './clients.js';
import { EventBus } from './events.js';
import { makeFronts } from './fronts.js';
import { isAppOnly } from '../protocol/apps.js';
import { matchesAny } from '../util/glob.js';
import { Reloader } from './reload.js';
import { ConfigEditor } from './config-edit.js';

/** After the daemon is ready, how long until the fronts load what they would load on first use. */
const WARM_AFTER_READY_MS = 1_000;

export interface DaemonOptions {
  home: string;
  /** `--config`; otherwise searched from `cwd`. */
  configFile?: string | undefined;
  cwd?: string;
  /** Where daemon log lines are echoed (the foreground daemon: stderr). */
  echo?: (entry: LogEntry) => void;
  /** No config found is no error: the daemon runs with no configured servers (for `mcpd chat ./weather.py`). */
  configOptional?: boolean;
  /** Reload when the config file changes on disk (default true). */
  watchConfig?: boolean;
  random?: () => number;
  /** Where chat finds ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Told of the daemon as soon as it exists, before it boots (process-level handlers need it). */
  onCreated?: (daemon: Daemon) => void;
}

const STOP_SERVERS_TIMEOUT_MS = 15_000;
const FRONT_CLOSE_TIMEOUT_MS = 5_000;

function closedError(): McpdError {
  return new McpdError('MCPD_CLOSED', 'The daemon is stopping; it takes no new work.');
}

export class Daemon implements DaemonPort {
  readonly paths: HomePaths;
  readonly logs: LogStore;
  readonly log: Logger;
  readonly supervisor: Supervisor;
  /** Servers a chat brought, beside the configured ones. */
  readonly ephemeral: EphemeralServers;
  private readonly configEditor: ConfigEditor;
  readonly catalogue = new Catalogue();
  /** The catalogue after the plugins: what clients and Claude see. */
  readonly published: PublishedCatalogue;
  readonly router: ToolRouter;
  /** The dashboard, once the fronts are made (App links). */
  private ui: Ports['ui'] | undefined;
  readonly plugins: PluginRunner;
  readonly chat: Chat;
  readonly children: ChildRegistry;
  readonly startedAt = Date.now();
  private readonly events: EventBus;
  private readonly clients: ClientRegistry;
  private readonly signIns: SignIns;
  private readonly reloader: Reloader;
  private fronts: Front[] = [];
  private stopping: Promise<void> | undefined;
  private ready = false;
  private lock: HomeLock | undefined;
  private resolveStopped!: () => void;
  /** Resolves once stop() finished. */
  readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });

  private constructor(
    private readonly options: DaemonOptions,
    private currentConfig: ResolvedConfig,
  ) {
    setSecrets(configSecrets(Object.values(currentConfig.servers)));
    this.paths = homePaths(options.home);
    this.logs = new LogStore(options.echo ? { echo: options.echo } : {});
    this.log = this.logs.logger('daemon');
    this.events = new EventBus((error, event) => this.log.error(`a listener of "${event}" failed: ${errorMessage(error)}`));
    this.clients = new ClientRegistry(this.events, this.log);
    this.children = new ChildRegistry(this.paths.childrenFile);
    const authStore = new AuthStore(this.paths.home);
    const serverRequests = new ServerRequestBridge({
      roots: (server) => (this.supervisor.has(server) ? this.supervisor.get(server).config.roots : []),
      log: (server) => this.logs.logger(server),
    });
    this.supervisor = new Supervisor(
      {
        logs: this.logs,
        children: this.children,
        clientInfo: { name: 'mcpd', version: VERSION },
        authStore,
        requests: (server) => serverRequests.forServer(server),
        legacyOnly: new Set(),
      },
      options.random,
      new StartGate(),
      new CatalogueMemory(this.paths.catalogueDir, (server, level, message) => this.logs.append(server, 'daemon', level, message)),
    );
    this.ephemeral = new EphemeralServers(this.paths.ephemeralDir, this.supervisor);
    this.signIns = new SignIns({
      store: authStore,
      log: this.logs.logger('daemon'),
      onSignedIn: async (server) => {
        if (this.closed || !this.supervisor.has(server)) return;
        await this.supervisor.get(server).restart();
      },
    });
    this.plugins = new PluginRunner({ home: this.paths.home, logs: this.logs, config: () => this.currentConfig });
    this.published = new PublishedCatalogue(this.catalogue, (tools) => this.plugins.transformCatalogue(tools));
    this.router = new ToolRouter(this.catalogue, this.published, this.supervisor, this.plugins, serverRequests);
    this.chat = new Chat({
      home: this.paths.home,
      config: () => this.currentConfig.chat,
      // A chat's own servers (mcpd chat ./weather.py) are that session's only.
      tools: (sessionId) => {
        const watchers = this.chat.watcherIds(sessionId);
        // App-only tools are for their App: never offered to Claude.
        return this.published.list().filter((t) => !isAppOnly(t) && this.ephemeral.visibleTo(t.server, watchers));
      },
      instructions: (sessionId) => {
        const watchers = this.chat.watcherIds(sessionId);
        const servers = this.supervisor.available().filter((s) => this.ephemeral.visibleTo(s.name, watchers));
        const merged = mergeInstructions('', servers, true).trim();
        return merged === '' ? undefined : merged;
      },
      callTool: (name, input, options) => this.router.callTool(name, input, { ...options, caller: 'chat' }),
      appLink: (view) => (this.ui ? this.ui.appLink(view) : Promise.reject(new Error('the dashboard is not up yet'))),
      env: options.env ?? process.env,
      log: this.logs.logger('chat'),
    });
    this.reloader = new Reloader({
      load: (file) => loadConfig({ file: options.configFile ?? file, ...(options.cwd ? { cwd: options.cwd } : {}) }),
      current: () => this.currentConfig,
      apply: (next, diff) => this.apply(next, diff),
      assertOpen: () => this.assertOpen(),
      announce: (result) => {
        this.events.emit('config:reloaded', result);
        this.plugins.emit({ type: 'config:reloaded', ...result });
      },
      log: this.log,
    });
    this.configEditor = new ConfigEditor({
      file: () => this.currentConfig.file ?? undefined,
      reload: () => this.reload(),
      server: (name) => (this.supervisor.has(name) ? this.asPublished(this.supervisor.get(name).status()) : undefined),
      assertOpen: () => this.assertOpen(),
      log: this.log,
    });
  }

  get config(): ResolvedConfig {
    return this.currentConfig;
  }

  /** True from the moment stop() is called: no new work is accepted. */
  get closed(): boolean {
    return this.stopping !== undefined;
  }

  assertOpen(): void {
    if (this.stopping) throw closedError();
  }

  /**
   * Starts everything; resolves once every server's first attempt settled (or once a stop asked
   * for meanwhile finished: `stopped` is then resolved).
   */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const paths = homePaths(options.home);
    ensureHome(paths);
    const lock = await lockHome(paths);
    let daemon: Daemon | undefined;
    try {
      await claimSocket(paths);
      const cwd = options.cwd ?? process.cwd();
      const config = await loadConfig({ file: options.configFile, cwd }).catch((error: unknown) => {
        if (options.configOptional && options.configFile === undefined && isMcpdError(error, 'MCPD_CONFIG_NOT_FOUND'))
          return emptyConfig(cwd);
        throw error;
      });
      daemon = new Daemon(options, config);
      daemon.lock = lock;
      options.onCreated?.(daemon);
      await daemon.boot();
    } catch (error) {
      if (daemon) await daemon.stop('start failed');
      else await lock.release();
      throw error;
    }
    return daemon;
  }

  /** What each front may ask of the daemon, each port implemented by the part that owns it. */
  private ports(ui: Ports['ui']): Ports {
    this.ui = ui;
    return {
      daemon: this,
      servers: this.supervisor,
      ephemeral: this.ephemeral,
      catalogue: this.published,
      calls: this.router,
      chat: this.chat,
      auth: new ServerAuth(this.supervisor, this.signIns, () => this.currentConfig),
      logs: this.logs,
      clients: this.clients,
      config: this.configEditor,
      events: this.events,
      ui,
      apps: this.router.apps,
    };
  }

  /** Every step checks for a stop asked for meanwhile (mcpd stop during a slow start). */
  private async boot(): Promise<void> {
    for (const warning of this.currentConfig.warnings) this.log.warn(`config: ${warning}`);
    if (this.lock?.squatted) {
      this.log.warn(`another user holds the usual lock name of ${this.paths.home}; this daemon holds the home's private lock instead`);
    }
    this.wire();
    // Left by a daemon that died; the home's lock says it is ours now.
    await rm(this.paths.mcpSocket, { force: true });
    this.ephemeral.clearTickets();
    // The home's lock says it is ours: only the daemon that owns it may touch what it recorded.
    const { reaped, skipped } = await this.children.reapLeftovers();
    for (const r of reaped) this.log.warn(`reaped process group ${r.pgid} of server "${r.server}" left by a previous daemon`);
    for (const r of skipped)
      this.log.warn(`left process group ${r.pgid} (server "${r.server}") alone: it cannot be shown to be a previous daemon's`);
    if (this.stopping) return;
    // Plugins before servers, so that their catalogue and call hooks apply from the first tool.
    await this.plugins.apply(this.currentConfig.plugins, this.currentConfig.dir);
    if (this.stopping) return;
    this.applyFilters(this.currentConfig);
    const starting = this.supervisor.startAll(this.currentConfig);
    // The fronts' code loads once the first servers are spawned (their spawns take no I/O wait,
    // so they are all issued before this import reads a file): the servers start while it
    // compiles. Nothing can reach a server before the fronts listen, and plugins are in before
    // any list is published.
    const fronts = await makeFronts({
      paths: this.paths,
      gateway: this.currentConfig.gateway.http,
      log: this.log,
      ports: (ui) => this.ports(ui),
    });
    if (this.stopping) return;
    this.fronts = fronts;
    for (const front of this.fronts) await front.start();
    await writeFileAtomicAsync(this.paths.pidFile, `${process.pid}\n`);
    this.log.info(`mcpd ${VERSION} (pid ${process.pid}) listening on ${this.paths.socket}; config ${this.currentConfig.file ?? '(none)'}`);
    await starting;
    if (this.stopping) return;
    this.ready = true;
    this.events.emit('daemon:ready', this.status());
    // Starting allocates far more than idling does: a full GC now lets V8 give that back; and
    // again once the connections and the fronts have loaded what they would load on first use
    // (soon after ready, not while `mcpd start` still asks; before an upgrade can replace the
    // files), which leaves garbage of its own.
    reclaimSoon();
    // No server running (lazy ones idle, listed from memory): nothing loaded the connections'
    // code, and no start competes for the CPU; loaded now, it is in before the first wake.
    if (!this.supervisor.list().some((s) => s.state === 'running'))
      void preloadUpstreams().catch((error: unknown) => this.log.warn(`could not load ahead: ${errorMessage(error)}`));
    setTimeout(() => {
      if (this.stopping) return;
      void Promise.allSettled([preloadUpstreams(), ...this.fronts.map(async (front) => front.warm?.())]).then((loaded) => {
        for (const r of loaded) if (r.status === 'rejected') this.log.warn(`could not load ahead: ${errorMessage(r.reason)}`);
        this.log.debug('loaded what the connections and fronts would load on first use');
        reclaimSoon();
      });
    }, WARM_AFTER_READY_MS).unref();
    void this.supervisor.memory?.forgetUnused(Object.keys(this.currentConfig.servers)).then((removed) => {
      if (removed > 0)
        this.log.info(`forgot the remembered catalogues of ${plural(removed, 'server')} no longer configured (unused for 30 days)`);
    });
    if (this.options.watchConfig !== false && this.currentConfig.file) this.reloader.watch(this.currentConfig.file);
    try {
      this.chat.prune();
    } catch (error) {
      this.log.warn(`could not prune old chat sessions: ${errorMessage(error)}`);
    }
  }

  private wire(): void {
    this.supervisor.on('lists', (server, kind, lists) => this.catalogue.update(server, kind, lists[kind]));
    this.supervisor.on('removed', (server) => {
      this.catalogue.removeServer(server);
      this.router.apps.forgetServer(server);
    });
    this.supervisor.on('resource:updated', (server, uri) => this.events.emit('resource:updated', { server, uri }));
    this.supervisor.on('state', (event) => {
      this.logs.append(event.server, 'daemon', event.state === 'failed' ? 'error' : 'info', `state ${event.previous} → ${event.state}`);
      this.events.emit('server:state', { ...event, status: this.asPublished(event.status) });
      this.plugins.emit({ type: 'server:state', server: event.server, state: event.state, previous: event.previous });
    });
    // Clients hear of a change once the published catalogue (after plugins) has it.
    this.catalogue.on('changed', (event) => {
      void this.published.refresh().then(() => {
        this.events.emit('catalogue:changed', event);
        this.plugins.emit({ type: 'catalogue:changed', ...event });
      });
    });
    this.logs.on('line', (entry) => this.events.emit('log:line', entry));
  }

  private applyFilters(config: ResolvedConfig): void {
    for (const server of Object.values(config.servers)) this.catalogue.setFilter(server.name, server.tools);
    this.catalogue.setMaxNameLength(config.gateway.maxNameLength);
  }

  /** A reload's new config, applied: filters, plugins, then the servers that changed. */
  private async apply(next: ResolvedConfig, diff: ConfigDiff): Promise<boolean> {
    // Until the old servers are gone, their secrets are kept out of what they still log.
    setSecrets(configSecrets([...Object.values(this.currentConfig.servers), ...Object.values(next.servers)]));
    this.currentConfig = next;
    this.applyFilters(next);
    const pluginsChanged = await this.plugins.apply(next.plugins, next.dir);
    if (pluginsChanged) await this.published.refresh();
    await this.supervisor.apply(next, diff);
    setSecrets(configSecrets(Object.values(next.servers)));
    return pluginsChanged;
  }

  appLinks(): boolean {
    return this.currentConfig.ui.appLinks;
  }

  linksOnly(client: string | undefined): boolean {
    return client !== undefined && matchesAny(client, this.currentConfig.ui.linkClients);
  }

  profile(name: string): ProfileConfig {
    // Own entries only: `constructor` or `toString` in a URL is not a profile.
    const profile = Object.hasOwn(this.currentConfig.gateway.profiles, name) ? this.currentConfig.gateway.profiles[name] : undefined;
    if (!profile) {
      const known = Object.keys(this.currentConfig.gateway.profiles).join(', ') || 'none';
      throw new McpdError('MCPD_PROFILE_UNKNOWN', `No profile named "${name}" in gateway.profiles (profiles: ${known}).`);
    }
    return profile;
  }

  status(): DaemonStatus {
    const servers = this.supervisor.list().map((s) => this.asPublished(s.status()));
    return {
      pid: process.pid,
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeMs: Date.now() - this.startedAt,
      home: this.paths.home,
      socket: this.paths.socket,
      configFile: this.currentConfig.file ?? null,
      ready: this.ready,
      servers,
      toolCount: this.published.list().length,
      plugins: this.plugins.status(),
      fronts: this.fronts.map((front) => front.describe()),
      clients: this.clients.list(),
      memory: (({ rss, heapUsed, heapTotal }) => ({ rss, heapUsed, heapTotal }))(process.memoryUsage()),
      configError: this.reloader.error,
      chat: { credential: this.chat.hasCredential() },
    };
  }

  /** A server's tools as clients see them: after its tool filter and the plugins' catalogue hooks. */
  private asPublished(status: ServerStatus): ServerStatus {
    // While a refresh runs the published view lags the server's own lists: the raw count until then.
    if ((status.state !== 'running' && status.state !== 'idle') || this.published.refreshing) return status;
    return { ...status, toolCount: this.published.list(status.name).length };
  }

  reload(trigger: ReloadResult['trigger'] = 'request'): Promise<ReloadResult> {
    return this.reloader.reload(trigger);
  }

  /**
   * Stops everything in reverse start order; every caller gets the same promise. From the first
   * call on, no new work is accepted (MCPD_CLOSED), whatever is still starting.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping (${reason})`);
      this.reloader.close();
      this.events.emit('daemon:stopping', { reason });
      this.plugins.emit({ type: 'daemon:stopping', reason });
      await this.chat.stop();
      this.signIns.close();
      await withTimeout(this.supervisor.stopAll(), STOP_SERVERS_TIMEOUT_MS, 'stopping the servers').catch((error: unknown) => {
        this.log.error(`${errorMessage(error)}; killing what is left`);
        this.children.killAllNow('SIGKILL');
      });
      // What lazy servers reported is on disk before the daemon goes (a torn file is relearned anyway).
      await withTimeout(this.supervisor.memory?.flushed() ?? Promise.resolve(), 5_000, 'writing remembered catalogues').catch(
        () => undefined,
      );
      // A reload still running finishes refusing (its servers were disposed above).
      await this.reloader.settled();
      // Fronts close after the servers: new work is refused from the first moment (MCPD_CLOSED),
      // and clients still see the shutdown happen.
      await Promise.allSettled(
        this.fronts.map((front) => withTimeout(front.close(), FRONT_CLOSE_TIMEOUT_MS, `closing the ${front.name} front`)),
      );
      await this.plugins.close();
      await rm(this.paths.pidFile, { force: true });
      await this.lock?.release();
      this.log.info('stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }
}
