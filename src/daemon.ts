/**
 * The composition root: owns start and stop order. Config → supervisor → catalogue → control
 * socket; stop in reverse. One daemon per MCPD_HOME.
 */
import { watch, type FSWatcher } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ToolRouter } from './calls/router.js';
import { ChatService } from './chat/service.js';
import { PluginHost } from './plugins/host.js';
import { ToolView } from './plugins/tool-view.js';
import { Catalogue } from './catalogue/catalogue.js';
import { diffServers } from './config/diff.js';
import { loadConfig } from './config/load.js';
import type { ResolvedConfig } from './config/types.js';
import { ControlClient } from './control/client.js';
import { createHandlers, toRpcError } from './control/handlers.js';
import { PROTOCOL_VERSION } from './control/protocol.js';
import { ControlServer } from './control/server.js';
import { McpdError, errorMessage } from './errors.js';
import { LogStore, type Logger } from './logs/store.js';
import type { DaemonStatus, LogEntry, ReloadResult } from './model.js';
import { ensureHome, homePaths, type HomePaths } from './paths.js';
import { ChildRegistry } from './supervisor/reaper.js';
import { Supervisor } from './supervisor/supervisor.js';
import { withTimeout } from './util/time.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  home: string;
  /** `--config`; otherwise searched from `cwd`. */
  configFile?: string | undefined;
  cwd?: string;
  /** Where daemon log lines are echoed (the foreground daemon: stderr). */
  echo?: (entry: LogEntry) => void;
  /** Reload when the config file changes on disk (default true). */
  watchConfig?: boolean;
  random?: () => number;
  /** Where chat finds ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Told of the daemon as soon as it exists, before it boots (process-level handlers need it). */
  onCreated?: (daemon: Daemon) => void;
}

const STOP_SERVERS_TIMEOUT_MS = 15_000;

export class Daemon {
  readonly paths: HomePaths;
  readonly logs: LogStore;
  readonly log: Logger;
  readonly supervisor: Supervisor;
  readonly catalogue = new Catalogue();
  readonly router: ToolRouter;
  readonly plugins: PluginHost;
  /** The catalogue after the plugins: what clients and Claude see. */
  readonly tools: ToolView;
  readonly chat: ChatService;
  readonly children: ChildRegistry;
  readonly startedAt = Date.now();
  private control: ControlServer | undefined;
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private ready = false;
  private reloading: Promise<ReloadResult> | undefined;
  private resolveStopped!: () => void;
  /** Resolves once stop() finished. */
  readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });

  private constructor(
    private readonly options: DaemonOptions,
    private currentConfig: ResolvedConfig,
  ) {
    this.paths = homePaths(options.home);
    this.logs = new LogStore(options.echo ? { echo: options.echo } : {});
    this.log = this.logs.logger('daemon');
    this.children = new ChildRegistry(this.paths.childrenFile);
    this.supervisor = new Supervisor({ logs: this.logs, children: this.children, clientInfo: { name: 'mcpd', version: VERSION } }, options.random);
    this.plugins = new PluginHost({ home: this.paths.home, logs: this.logs, config: () => this.currentConfig });
    this.tools = new ToolView(this.catalogue, this.plugins);
    this.router = new ToolRouter(this.catalogue, this.tools, this.supervisor, this.plugins);
    this.chat = new ChatService({
      home: this.paths.home,
      config: () => this.currentConfig.chat,
      tools: () => this.tools.list(),
      callTool: (name, input, signal, sessionId) => this.router.callTool(name, input, { signal, caller: 'chat', sessionId }),
      env: options.env ?? process.env,
      log: this.logs.logger('chat'),
    });
  }

  get config(): ResolvedConfig {
    return this.currentConfig;
  }

  /** Starts everything; resolves once every server's first attempt settled. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const paths = homePaths(options.home);
    ensureHome(paths);
    await Daemon.claimSocket(paths);
    const config = await loadConfig({ file: options.configFile, ...(options.cwd ? { cwd: options.cwd } : {}) });
    const daemon = new Daemon(options, config);
    options.onCreated?.(daemon);
    try {
      await daemon.boot();
    } catch (error) {
      await daemon.stop('start failed');
      throw error;
    }
    return daemon;
  }

  /** Refuses to start beside a live daemon; removes the socket a dead one left. */
  private static async claimSocket(paths: HomePaths): Promise<void> {
    try {
      const client = await ControlClient.connect({ socketPath: paths.socket, timeoutMs: 1_000, clientName: 'mcpd-daemon-probe' });
      const pid = client.daemon.pid;
      client.close();
      throw new McpdError('MCPD_DAEMON_ALREADY_RUNNING', `A daemon (pid ${pid}) already runs for ${paths.home}.`, { details: { pid } });
    } catch (error) {
      if (error instanceof McpdError && error.code === 'MCPD_DAEMON_ALREADY_RUNNING') throw error;
      await rm(paths.socket, { force: true });
    }
  }

  private async boot(): Promise<void> {
    const reaped = await this.children.reapLeftovers();
    for (const r of reaped) this.log.warn(`reaped process group ${r.pgid} of server "${r.server}" left by a previous daemon`);
    for (const warning of this.currentConfig.warnings) this.log.warn(`config: ${warning}`);
    // Accepted by the config schema already; served by a later build.
    if (this.currentConfig.gateway.http) this.log.warn('config: gateway.http is not served by this build; ignoring it');
    this.wire();
    this.control = new ControlServer({
      socketPath: this.paths.socket,
      handle: createHandlers(this),
      toError: toRpcError,
      log: (level, text) => this.logs.append('daemon', 'daemon', level, text),
    });
    await this.control.listen();
    await writeFile(this.paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    // Plugins before servers, so that their catalogue and call hooks apply from the first tool.
    await this.plugins.apply(this.currentConfig.plugins, this.currentConfig.dir);
    this.log.info(`mcpd ${VERSION} (pid ${process.pid}) listening on ${this.paths.socket}; config ${this.currentConfig.file ?? '(none)'}`);
    this.applyFilters(this.currentConfig);
    await this.supervisor.startAll(this.currentConfig);
    this.ready = true;
    if (this.options.watchConfig !== false) this.watchConfig();
  }

  private wire(): void {
    this.supervisor.on('lists', (server, kind, lists) => this.catalogue.update(server, kind, lists[kind]));
    this.supervisor.on('removed', (server) => this.catalogue.removeServer(server));
    this.supervisor.on('state', (event) => {
      this.logs.append(event.server, 'daemon', event.state === 'failed' ? 'error' : 'info', `state ${event.previous} → ${event.state}`);
      this.control?.broadcast('server:state', event);
      this.plugins.emit({ type: 'server:state', server: event.server, state: event.state, previous: event.previous });
    });
    // Clients hear of a change once the view (after plugins) has it.
    this.catalogue.on('changed', (event) => {
      void this.tools.refresh().then(() => {
        this.control?.broadcast('catalogue:changed', event);
        this.plugins.emit({ type: 'catalogue:changed', ...event });
      });
    });
    this.logs.on('line', (entry) => this.control?.broadcast('log:line', entry));
  }

  private applyFilters(config: ResolvedConfig): void {
    for (const server of Object.values(config.servers)) this.catalogue.setFilter(server.name, server.tools);
  }

  status(): DaemonStatus {
    const servers = this.supervisor.list().map((s) => s.status());
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
      toolCount: this.tools.list().length,
      plugins: this.plugins.status(),
    };
  }

  /**
   * Re-reads the config and applies only what changed. An invalid config is refused with its
   * errors (MCPD_CONFIG_INVALID) and the running one stays.
   */
  reload(): Promise<ReloadResult> {
    // Reloads run one at a time; a reload asked for during one runs after it.
    const run = async (): Promise<ReloadResult> => {
      const next = await loadConfig({ file: this.options.configFile ?? this.currentConfig.file, ...(this.options.cwd ? { cwd: this.options.cwd } : {}) });
      const diff = diffServers(this.currentConfig, next);
      this.currentConfig = next;
      this.applyFilters(next);
      const pluginsChanged = await this.plugins.apply(next.plugins, next.dir);
      if (pluginsChanged) await this.tools.refresh();
      await this.supervisor.apply(next, diff);
      const result: ReloadResult = { file: next.file ?? null, ...diff, pluginsChanged, warnings: next.warnings };
      this.log.info(`config reloaded: ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged`);
      this.control?.broadcast('config:reloaded', result);
      this.plugins.emit({ type: 'config:reloaded', ...result });
      return result;
    };
    const previous = this.reloading ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(run);
    this.reloading = next;
    void next.finally(() => {
      if (this.reloading === next) this.reloading = undefined;
    }).catch(() => undefined);
    return next;
  }

  private watchConfig(): void {
    const file = this.currentConfig.file;
    if (!file) return;
    try {
      // Watch the folder: editors that save by rename would end a watch on the file itself.
      this.watcher = watch(dirname(file), (_event, name) => {
        if (name !== basename(file)) return;
        clearTimeout(this.reloadTimer);
        this.reloadTimer = setTimeout(() => {
          this.log.info(`${file} changed on disk; reloading`);
          this.reload().catch((error: unknown) => this.log.error(`reload refused, the running config stays: ${errorMessage(error)}`));
        }, 250);
      });
      this.watcher.on('error', (error) => this.log.warn(`config watch stopped: ${error.message}`));
    } catch (error) {
      this.log.warn(`cannot watch ${file}: ${errorMessage(error)}`);
    }
  }

  /** Stops everything in reverse start order; every caller gets the same promise. */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping (${reason})`);
      this.watcher?.close();
      clearTimeout(this.reloadTimer);
      this.control?.broadcast('daemon:stopping', { reason });
      this.plugins.emit({ type: 'daemon:stopping', reason });
      await this.chat.stop();
      await withTimeout(this.supervisor.stopAll(), STOP_SERVERS_TIMEOUT_MS, 'stopping the servers').catch((error: unknown) => {
        this.log.error(`${errorMessage(error)}; killing what is left`);
        this.children.killAllNow('SIGKILL');
      });
      await this.control?.close();
      await this.plugins.disposeAll();
      await rm(this.paths.pidFile, { force: true });
      this.log.info('stopped');
      this.resolveStopped();
    })();
    return this.stopping;
  }
}
