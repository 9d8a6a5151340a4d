/**
 * The composition root: owns start and stop order. Config → supervisor → catalogue → control
 * socket; stop in reverse. One daemon per MCPD_HOME.
 */
import { watch, type FSWatcher } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname } from 'node:path';
import { ToolRouter } from './calls/router.js';
import { ChatService } from './chat/service.js';
import { PluginHost } from './plugins/host.js';
import { ToolView } from './plugins/tool-view.js';
import { Catalogue } from './catalogue/catalogue.js';
import { diffServers } from './config/diff.js';
import { loadConfig } from './config/load.js';
import type { HttpServerConfig, ProfileConfig, ResolvedConfig } from './config/types.js';
import { SignIns } from './upstream/http/auth/sign-in.js';
import { AuthStore } from './upstream/http/auth/store.js';
import type { RoutedCallOptions } from './calls/router.js';
import { PROTOCOL_VERSION, type CallToolResultJson } from './protocol/control.js';
import { ControlFront } from './fronts/control/front.js';
import { McpHttpFront } from './fronts/mcp-http/front.js';
import { McpSocketFront } from './fronts/mcp-socket/front.js';
import { DashboardFront } from './fronts/ui/front.js';
import { reclaimSoon } from './hotpath/reclaim.js';
import { maskServerConfig } from './config/mask.js';
import { isLoopbackHost } from './config/schema.js';
import type { DaemonHost, Front, HostEvents, ServerAction } from './fronts/host.js';
import { GuardedEmitter } from './util/emitter.js';
import { McpdError, errorMessage } from './errors.js';
import { LogStore, type Logger } from './logs/store.js';
import type {
  AuthStatus,
  DaemonStatus,
  LogEntry,
  McpClientStatus,
  PromptEntry,
  ReloadResult,
  ResourceEntry,
  ServerStatus,
  ToolEntry,
} from './protocol/types.js';
import type { GetPromptResult, ReadResourceResult, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { CallOptions, ForwardedRequest } from './supervisor/managed-server.js';
import { lockHome, type HomeLock } from './home-lock.js';
import { ensureHome, homePaths, type HomePaths } from './paths.js';
import { ChildRegistry } from './upstream/stdio/reaper.js';
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
const FRONT_CLOSE_TIMEOUT_MS = 5_000;

function closedError(): McpdError {
  return new McpdError('MCPD_CLOSED', 'The daemon is stopping; it takes no new work.');
}

export class Daemon implements DaemonHost {
  readonly paths: HomePaths;
  readonly logs: LogStore;
  readonly log: Logger;
  readonly supervisor: Supervisor;
  readonly catalogue = new Catalogue();
  readonly router: ToolRouter;
  readonly plugins: PluginHost;
  /** The catalogue after the plugins: what clients and Claude see. */
  readonly toolView: ToolView;
  readonly chat: ChatService;
  readonly children: ChildRegistry;
  /** Sign-ins to remote servers (mcpd auth); their tokens live in MCPD_HOME/auth. */
  readonly signIns: SignIns;
  private readonly authStore: AuthStore;
  readonly startedAt = Date.now();
  /** The daemon's events, as fronts hear them. */
  private readonly events: GuardedEmitter<HostEvents>;
  private fronts: Front[] = [];
  private dashboard: DashboardFront | undefined;
  private readonly clients = new Set<McpClientStatus>();
  /** MCP clients' resource subscriptions, counted per server and URI. */
  private readonly subscriptions = new Map<string, number>();
  private watcher: FSWatcher | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private ready = false;
  private reloading: Promise<ReloadResult> | undefined;
  /** The config as of the last requested reload (or the start): what `mcpd reload` reports against. */
  private reportedConfig: ResolvedConfig;
  private configError: DaemonStatus['configError'] = null;
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
    this.reportedConfig = currentConfig;
    this.paths = homePaths(options.home);
    this.logs = new LogStore(options.echo ? { echo: options.echo } : {});
    this.log = this.logs.logger('daemon');
    this.events = new GuardedEmitter<HostEvents>((error, event) =>
      this.log.error(`a listener of "${event}" failed: ${errorMessage(error)}`),
    );
    this.children = new ChildRegistry(this.paths.childrenFile);
    this.authStore = new AuthStore(this.paths.home);
    this.supervisor = new Supervisor(
      { logs: this.logs, children: this.children, clientInfo: { name: 'mcpd', version: VERSION }, authStore: this.authStore },
      options.random,
    );
    this.signIns = new SignIns({
      store: this.authStore,
      log: this.logs.logger('daemon'),
      onSignedIn: async (server) => {
        if (this.closed || !this.supervisor.has(server)) return;
        await this.supervisor.get(server).restart();
      },
    });
    this.plugins = new PluginHost({ home: this.paths.home, logs: this.logs, config: () => this.currentConfig });
    this.toolView = new ToolView(this.catalogue, this.plugins);
    this.router = new ToolRouter(this.catalogue, this.toolView, this.supervisor, this.plugins);
    this.chat = new ChatService({
      home: this.paths.home,
      config: () => this.currentConfig.chat,
      tools: () => this.toolView.list(),
      callTool: (name, input, options) => this.router.callTool(name, input, { ...options, caller: 'chat' }),
      env: options.env ?? process.env,
      log: this.logs.logger('chat'),
    });
  }

  get config(): ResolvedConfig {
    return this.currentConfig;
  }

  /** True from the moment stop() is called: no new work is accepted. */
  get closed(): boolean {
    return this.stopping !== undefined;
  }

  /** Refuses new work once the daemon is stopping. */
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
      await Daemon.claimSocket(paths);
      const config = await loadConfig({ file: options.configFile, ...(options.cwd ? { cwd: options.cwd } : {}) });
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

  /**
   * With the home's lock held, a socket file left there is a dead daemon's, unless something
   * still answers on it (a daemon of an older build, which took no lock). Only "no such file" and
   * "connection refused" mean nobody is there; a slow answer is someone.
   */
  private static async claimSocket(paths: HomePaths): Promise<void> {
    const answer = await new Promise<'nobody' | 'somebody'>((resolve) => {
      const socket = connect(paths.socket);
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('somebody');
      }, 2_000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve('somebody');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'nobody' : 'somebody');
      });
    });
    if (answer === 'somebody') {
      throw new McpdError(
        'MCPD_DAEMON_ALREADY_RUNNING',
        `Something already answers on ${paths.socket}: another daemon runs for ${paths.home}. Stop it first (mcpd stop), or give this one another home (--home DIR).`,
      );
    }
    await rm(paths.socket, { force: true });
  }

  /** Every step checks for a stop asked for meanwhile (mcpd stop during a slow start). */
  private async boot(): Promise<void> {
    for (const warning of this.currentConfig.warnings) this.log.warn(`config: ${warning}`);
    this.wire();
    // Left by a daemon that died; the home's lock says it is ours now.
    await rm(this.paths.mcpSocket, { force: true });
    const control = new ControlFront(this, { socketPath: this.paths.socket, log: this.log });
    const http = this.currentConfig.gateway.http;
    // The dashboard rides on the gateway when that is loopback; otherwise it has a port of its own.
    let gateway: McpHttpFront | undefined;
    this.dashboard = new DashboardFront({
      home: this.paths.home,
      log: this.log,
      accept: (req, socket, head) => control.accept(req, socket, head),
      ...(http && isLoopbackHost(http.host) ? { gatewayUrl: () => gateway!.url } : {}),
    });
    if (http)
      gateway = new McpHttpFront(this, { ...http, log: this.log, ui: isLoopbackHost(http.host) ? this.dashboard.handler : undefined });
    this.fronts = [
      control,
      new McpSocketFront(this, { socketPath: this.paths.mcpSocket, log: this.log }),
      ...(gateway ? [gateway] : []),
      this.dashboard,
    ];
    for (const front of this.fronts) await front.start();
    await writeFile(this.paths.pidFile, `${process.pid}\n`, { mode: 0o600 });
    // Bound first, then reap: only the daemon that owns the home may touch what it recorded.
    const { reaped, skipped } = await this.children.reapLeftovers();
    for (const r of reaped) this.log.warn(`reaped process group ${r.pgid} of server "${r.server}" left by a previous daemon`);
    for (const r of skipped)
      this.log.warn(`left process group ${r.pgid} (server "${r.server}") alone: it cannot be shown to be a previous daemon's`);
    if (this.stopping) return;
    // Plugins before servers, so that their catalogue and call hooks apply from the first tool.
    await this.plugins.apply(this.currentConfig.plugins, this.currentConfig.dir);
    if (this.stopping) return;
    this.log.info(`mcpd ${VERSION} (pid ${process.pid}) listening on ${this.paths.socket}; config ${this.currentConfig.file ?? '(none)'}`);
    this.applyFilters(this.currentConfig);
    await this.supervisor.startAll(this.currentConfig);
    if (this.stopping) return;
    this.ready = true;
    // Starting allocates far more than idling does: a full GC now lets V8 give that back.
    reclaimSoon();
    if (this.options.watchConfig !== false) this.watchConfig();
    try {
      this.chat.prune();
    } catch (error) {
      this.log.warn(`could not prune old chat sessions: ${errorMessage(error)}`);
    }
  }

  private wire(): void {
    this.supervisor.on('lists', (server, kind, lists) => this.catalogue.update(server, kind, lists[kind]));
    this.supervisor.on('removed', (server) => this.catalogue.removeServer(server));
    this.supervisor.on('resource:updated', (server, uri) => this.events.emit('resource:updated', { server, uri }));
    this.supervisor.on('state', (event) => {
      this.logs.append(event.server, 'daemon', event.state === 'failed' ? 'error' : 'info', `state ${event.previous} → ${event.state}`);
      this.events.emit('server:state', event);
      this.plugins.emit({ type: 'server:state', server: event.server, state: event.state, previous: event.previous });
    });
    // Clients hear of a change once the view (after plugins) has it.
    this.catalogue.on('changed', (event) => {
      void this.toolView.refresh().then(() => {
        this.events.emit('catalogue:changed', event);
        this.plugins.emit({ type: 'catalogue:changed', ...event });
      });
    });
    this.logs.on('line', (entry) => this.events.emit('log:line', entry));
  }

  private applyFilters(config: ResolvedConfig): void {
    for (const server of Object.values(config.servers)) this.catalogue.setFilter(server.name, server.tools);
  }

  // --- DaemonHost: what fronts may ask -------------------------------------------------------

  async serverAction(name: string, action: ServerAction): Promise<ServerStatus> {
    const server = this.supervisor.get(name);
    await server[action]();
    return server.status();
  }

  assertServer(name: string): void {
    this.supervisor.get(name);
  }

  serverConfig(name: string): Record<string, unknown> {
    this.assertServer(name);
    return maskServerConfig(this.currentConfig.servers[name]!);
  }

  openUi(): Promise<{ url: string }> {
    this.assertOpen();
    if (!this.dashboard) throw new McpdError('MCPD_CLOSED', 'The daemon is still starting; try mcpd ui again in a moment.');
    return this.dashboard.open();
  }

  /** A remote server of the running config (sign-in works on those only). */
  private remoteConfig(name: string): HttpServerConfig {
    this.assertServer(name);
    const config = this.currentConfig.servers[name]!;
    if (config.transport !== 'http')
      throw new McpdError('MCPD_USAGE', `Server "${name}" is a local server (command); only remote servers (url) sign in.`, {
        server: name,
      });
    return config;
  }

  signIn(name: string, signal: AbortSignal): Promise<{ authorizationUrl: string } | { signedIn: true }> {
    this.assertOpen();
    return this.signIns.start(this.remoteConfig(name), signal);
  }

  async waitSignIn(name: string, signal: AbortSignal): Promise<ServerStatus> {
    await this.signIns.wait(name, signal);
    return this.supervisor.get(name).status();
  }

  async signOut(name: string): Promise<ServerStatus> {
    this.signIns.logout(this.remoteConfig(name));
    const server = this.supervisor.get(name);
    // Running on the old token until it is refused is not signed out: reconnect without it.
    if (server.state !== 'stopped' && server.state !== 'disabled') await server.restart();
    return server.status();
  }

  authStatus(): AuthStatus[] {
    return Object.values(this.currentConfig.servers).flatMap((config) =>
      config.transport === 'http' ? [this.signIns.status(config, this.supervisor.get(config.name).state)] : [],
    );
  }

  profile(name: string): ProfileConfig {
    const profile = this.currentConfig.gateway.profiles[name];
    if (!profile) {
      const known = Object.keys(this.currentConfig.gateway.profiles).join(', ') || 'none';
      throw new McpdError('MCPD_PROFILE_UNKNOWN', `No profile named "${name}" in gateway.profiles (profiles: ${known}).`);
    }
    return profile;
  }

  async tools(server?: string): Promise<ToolEntry[]> {
    await this.toolView.settled();
    return this.toolView.list(server);
  }

  resources(server?: string): ResourceEntry[] {
    return this.catalogue.resources(server);
  }

  prompts(server?: string): PromptEntry[] {
    return this.catalogue.prompts(server);
  }

  callTool(name: string, args: Record<string, unknown> | undefined, options: RoutedCallOptions): Promise<CallToolResultJson> {
    return this.router.callTool(name, args, options);
  }

  callUnlisted(
    server: string,
    name: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson> {
    return this.router.callUnlisted(server, name, args, options);
  }

  readResource(uri: string, server: string | undefined, options: RoutedCallOptions): Promise<ReadResourceResult> {
    return this.router.readResource(uri, server, options);
  }

  getPrompt(name: string, args: Record<string, string> | undefined, options: RoutedCallOptions): Promise<GetPromptResult> {
    return this.router.getPrompt(name, args, options);
  }

  forward(server: string, request: ForwardedRequest, options: CallOptions): Promise<unknown> {
    return this.supervisor.get(server).forward(request, options);
  }

  async subscribeResource(server: string, uri: string, options: CallOptions): Promise<void> {
    const key = `${server}\0${uri}`;
    const count = this.subscriptions.get(key) ?? 0;
    if (count === 0) await this.supervisor.get(server).forward({ method: 'resources/subscribe', params: { uri } }, options);
    this.subscriptions.set(key, count + 1);
  }

  async unsubscribeResource(server: string, uri: string, options: CallOptions): Promise<void> {
    const key = `${server}\0${uri}`;
    const count = this.subscriptions.get(key) ?? 0;
    if (count === 0) return;
    if (count > 1) {
      this.subscriptions.set(key, count - 1);
      return;
    }
    this.subscriptions.delete(key);
    await this.supervisor.get(server).forward({ method: 'resources/unsubscribe', params: { uri } }, options);
  }

  runningServers(): { name: string; capabilities: ServerCapabilities }[] {
    return this.supervisor.list().flatMap((s) => {
      const capabilities = s.capabilities();
      return capabilities ? [{ name: s.name, capabilities }] : [];
    });
  }

  resourceOwners(uri: string): string[] {
    return this.catalogue.resolveResource(uri).map((r) => r.server);
  }

  readLogs(source: string | undefined, lines: number): LogEntry[] {
    return this.logs.read(source, lines);
  }

  logSources(): string[] {
    return this.logs.sources();
  }

  clientEvent(kind: 'connected' | 'disconnected', client: McpClientStatus): void {
    if (kind === 'connected') this.clients.add(client);
    else this.clients.delete(client);
    this.log.info(
      `MCP client ${client.name} ${client.version} ${kind === 'connected' ? 'connected to' : 'left'} ${client.endpoint} (${client.front})`,
    );
    this.events.emit(kind === 'connected' ? 'client:connected' : 'client:disconnected', client);
  }

  on<E extends keyof HostEvents>(event: E, listener: HostEvents[E]): () => void {
    this.events.on(event, listener as never);
    return () => void this.events.off(event, listener as never);
  }

  // ---------------------------------------------------------------------------------------------

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
      toolCount: this.toolView.list().length,
      plugins: this.plugins.status(),
      fronts: this.fronts.map((front) => front.describe()),
      clients: [...this.clients],
      memory: (({ rss, heapUsed, heapTotal }) => ({ rss, heapUsed, heapTotal }))(process.memoryUsage()),
      configError: this.configError,
    };
  }

  /**
   * Re-reads the config and applies only what changed. An invalid config is refused with its
   * errors (MCPD_CONFIG_INVALID) and the running one stays (and shows in `status`).
   * Reloads run one at a time; one asked for during another runs after it.
   */
  reload(trigger: ReloadResult['trigger'] = 'request'): Promise<ReloadResult> {
    if (this.stopping) return Promise.reject(closedError());
    // A request covers a watcher reload still waiting for the file to settle.
    if (trigger !== 'watcher') clearTimeout(this.reloadTimer);
    const run = async (): Promise<ReloadResult> => {
      this.assertOpen();
      let next: ResolvedConfig;
      try {
        next = await loadConfig({
          file: this.options.configFile ?? this.currentConfig.file,
          ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
        });
      } catch (error) {
        this.configError = { file: this.currentConfig.file ?? null, message: errorMessage(error), time: new Date().toISOString() };
        throw error;
      }
      this.assertOpen();
      this.configError = null;
      if (JSON.stringify(next.gateway) !== JSON.stringify(this.currentConfig.gateway)) {
        this.log.warn('config: gateway changed; it takes effect when the daemon restarts (mcpd stop, then mcpd start)');
      }
      const diff = diffServers(this.currentConfig, next);
      this.currentConfig = next;
      this.applyFilters(next);
      const pluginsChanged = await this.plugins.apply(next.plugins, next.dir);
      if (pluginsChanged) await this.toolView.refresh();
      await this.supervisor.apply(next, diff);
      // A request reports every change since the last request, the watcher's included.
      const reported = trigger === 'request' ? diffServers(this.reportedConfig, next) : diff;
      if (trigger === 'request') this.reportedConfig = next;
      const result: ReloadResult = { file: next.file ?? null, ...reported, pluginsChanged, warnings: next.warnings, trigger };
      this.log.info(
        `config reloaded (${trigger}): ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged`,
      );
      this.events.emit('config:reloaded', result);
      this.plugins.emit({ type: 'config:reloaded', ...result });
      return result;
    };
    const previous = this.reloading ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(run);
    this.reloading = next;
    void next
      .finally(() => {
        if (this.reloading === next) this.reloading = undefined;
      })
      .catch(() => undefined);
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
          if (this.stopping) return;
          this.log.info(`${file} changed on disk; reloading`);
          this.reload('watcher').catch((error: unknown) =>
            this.log.error(`reload refused, the running config stays: ${errorMessage(error)}`),
          );
        }, 250);
      });
      this.watcher.on('error', (error) => this.log.warn(`config watch stopped: ${error.message}`));
    } catch (error) {
      this.log.warn(`cannot watch ${file}: ${errorMessage(error)}`);
    }
  }

  /**
   * Stops everything in reverse start order; every caller gets the same promise. From the first
   * call on, no new work is accepted (MCPD_CLOSED), whatever is still starting.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping (${reason})`);
      this.watcher?.close();
      clearTimeout(this.reloadTimer);
      this.events.emit('daemon:stopping', { reason });
      this.plugins.emit({ type: 'daemon:stopping', reason });
      await this.chat.stop();
      this.signIns.close();
      await withTimeout(this.supervisor.stopAll(), STOP_SERVERS_TIMEOUT_MS, 'stopping the servers').catch((error: unknown) => {
        this.log.error(`${errorMessage(error)}; killing what is left`);
        this.children.killAllNow('SIGKILL');
      });
      // A reload still running finishes refusing (its servers were disposed above).
      await this.reloading?.catch(() => undefined);
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
