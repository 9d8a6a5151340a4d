/**
 * One configured server through its whole life: start, health, crash, backoff, give up, stop,
 * and for a lazy or idle-stopping one, rest (`idle`: no process, its catalogue kept) and wake.
 * All state changes go through `transition`, which checks them against the state machine.
 * Actions (start, stop, restart, dispose; rest and wake) run one at a time through an
 * ActionQueue; stop, restart and dispose cut short a start in progress. `disposed` is final.
 * managed-server.ts adds the calls a running server takes.
 */
import { StartGate } from './start-gate.js';
import type { ServerConfig } from '../config/types.js';
import { McpdError, errorMessage } from '../errors.js';
import type { ServerState, ServerStateEvent, ServerStatus } from '../protocol/types.js';
import { GuardedEmitter } from '../util/emitter.js';
import { plural } from '../util/plural.js';
import { stderrSummary } from '../logs/stderr-summary.js';
import { openUpstream } from '../upstream/open.js';
import type { ExitInfo } from '../upstream/stdio/process.js';
import type { ListKind, ServerLists, Upstream, UpstreamDeps, UpstreamTransport } from '../upstream/types.js';
import { ActionQueue } from './action-queue.js';
import { lostError, startError } from './failures.js';
import { HealthMonitor } from './health.js';
import { whenAborted, type Cancellation } from '../hotpath/lazy-abort.js';
import { IdleClock } from './idle-clock.js';
import type { CatalogueMemory, Remembered } from './memory.js';
import { RestartPolicy } from './restart-policy.js';
import { serverStatus } from './status.js';
import { assertTransition } from './state.js';

export interface ManagedServerEvents {
  state: (event: ServerStateEvent) => void;
  lists: (server: string, kind: ListKind, lists: ServerLists) => void;
  'resource:updated': (server: string, uri: string) => void;
}

type Action = 'start' | 'stop' | 'restart' | 'dispose' | 'rest' | 'wake';

export interface Attempt {
  generation: number;
  abort: AbortController;
  upstream?: Upstream;
  health?: HealthMonitor;
  /** Why it ended, once it failed: named in the error of every call it cut short. */
  failure?: McpdError;
  /** The log's newest line when it began: its stderr is what came after (not an earlier attempt's). */
  logMark: number;
  /** Its `initialize` was answered: requests may go out while it lists (a woken server's do). */
  booted?: boolean;
}

const EMPTY_LISTS: ServerLists = { tools: [], resources: [], prompts: [] };

function sameItems(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && (a.length === 0 || JSON.stringify(a) === JSON.stringify(b));
}

export abstract class ServerLifecycle extends GuardedEmitter<ManagedServerEvents> {
  protected currentState: ServerState;
  private readonly policy: RestartPolicy;
  private readonly actions = new ActionQueue<Action>();
  protected attempt: Attempt | undefined;
  private generation = 0;
  /** Who waits for a start to have `initialize` answered (nextBoot). */
  private bootWaiters: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | undefined;
  private starting: Promise<void> | undefined;
  /** The teardown of a failed attempt, which a new attempt waits for (never two processes). */
  private tearingDown: Promise<void> | undefined;
  private runningSince: number | undefined;
  protected lastActivity = Date.now();
  private restarts = 0;
  private skippedLines = 0;
  protected lastError: McpdError | null = null;
  /** How a remote server was last reached (kept while it is down, for status). */
  private lastTransport: UpstreamTransport | undefined;
  private lists: ServerLists = EMPTY_LISTS;
  /** Set once dispose was asked for: from then on every action is refused. */
  private disposing = false;
  /** What it reported when it last ran (or the remembered file said): what it shows while idle. */
  protected remembered: Remembered | undefined;
  private lastRanAt: number | undefined;
  /** True while an idle stop runs: a request then waits for it and wakes the server. */
  private resting = false;
  /** Stops the server once unused for `idleStopMs` (idle-clock.ts). */
  protected readonly idleClock: IdleClock;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: UpstreamDeps,
    random: () => number = Math.random,
    /** Shared by a supervisor's servers: at most so many start at once (start-gate.ts). */
    private readonly gate: StartGate = new StartGate(Number.POSITIVE_INFINITY),
    /** Where a lazy (or idle-stopping) server's catalogue is kept between runs. */
    private readonly memory?: CatalogueMemory,
  ) {
    super((error, event) => deps.logs.append(config.name, 'daemon', 'error', `a listener of "${event}" failed: ${errorMessage(error)}`));
    this.currentState = config.disabled ? 'disabled' : 'stopped';
    this.policy = new RestartPolicy(config.restart, random);
    this.idleClock = new IdleClock(config.idleStopMs, () => {
      void this.submit('rest', () => this.idleStop()).catch(() => undefined);
    });
  }

  get name(): string {
    return this.config.name;
  }

  get state(): ServerState {
    return this.currentState;
  }

  get currentLists(): ServerLists {
    return this.lists;
  }

  status(): ServerStatus {
    return serverStatus({
      config: this.config,
      state: this.currentState,
      upstream: this.attempt?.upstream,
      lastTransport: this.lastTransport,
      runningSince: this.runningSince,
      restarts: this.restarts,
      lists: this.lists,
      lastError: this.lastError,
      retryAt: this.retryAt,
      skippedLines: this.skippedLines,
      remembered: this.remembered,
      lastRanAt: this.lastRanAt,
    });
  }

  /**
   * The daemon's start of it: a lazy server with a remembered catalogue waits `idle` (listed,
   * no process); any other server starts (a lazy one without a catalogue, to learn it).
   */
  begin(): Promise<void> {
    if (this.config.start === 'lazy' && !this.config.disabled) {
      const remembered = this.memory?.recall(this.config);
      if (remembered) return this.submit('rest', async () => this.restFrom(remembered));
    }
    return this.start();
  }

  /**
   * Starts the server (a manual start also clears `failed` and the crash history). Resolves once
   * every action asked for so far settled, so the state then is final: `running`, `backoff`,
   * `failed`, or what a later action left.
   */
  start(): Promise<void> {
    return this.submit('start', () => this.doStart());
  }

  /** Stops the server and everything it spawned; cuts short a start in progress. */
  stop(finalState: 'stopped' | 'disabled' = 'stopped'): Promise<void> {
    this.interruptStart();
    return this.submit('stop', () => this.halt(finalState));
  }

  /** Stop, then start. Restarts asked for while one is under way join it. */
  restart(): Promise<void> {
    if (this.actions.current !== 'restart') this.interruptStart();
    return this.submit('restart', async () => {
      await this.halt('stopped');
      await this.doStart();
    });
  }

  /** Stops the server for good: `disposed` is final and every later action is refused. */
  dispose(): Promise<void> {
    this.interruptStart();
    return this.submit('dispose', async () => {
      await this.halt('stopped');
      this.transition('disposed');
    });
  }

  get disposed(): boolean {
    return this.currentState === 'disposed';
  }

  /** Whether a request now would wake it: it is idle, or being stopped for idleness. */
  protected get wakes(): boolean {
    return this.currentState === 'idle' || this.resting;
  }

  /**
   * Starts an idle server for a request (after an idle stop under way), leaving its restart
   * history as it is. Resolves once that start settled; the caller's signal stops the wait only.
   */
  protected async wake(signal: Cancellation | undefined): Promise<void> {
    const woken = this.submit('wake', async () => {
      if (this.currentState !== 'idle') return;
      this.deps.logs.append(this.name, 'daemon', 'info', 'waking: a request needs it');
      await this.launch();
    });
    if (!signal) return woken;
    if (signal.aborted) throw signal.reason;
    let forget: () => void = () => undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      forget = whenAborted(signal, () => reject(signal.reason));
    });
    try {
      await Promise.race([woken, aborted]);
    } finally {
      forget();
    }
  }

  /** A lazy server at the daemon's start, listed from what it reported when it last ran. */
  private restFrom(remembered: Remembered): void {
    if (this.currentState !== 'stopped') return;
    this.remembered = remembered;
    this.lastRanAt = remembered.lastRanAt;
    this.setLists(remembered.lists);
    this.transition('idle');
  }

  /** Unused for its `idleStopMs`: stopped gracefully, waiting `idle` with its catalogue. */
  private async idleStop(): Promise<void> {
    // A request or a hold since the timer fired: the clock checks again when it ends.
    if (this.currentState !== 'running' || this.idleClock.inUse) return;
    this.deps.logs.append(
      this.name,
      'daemon',
      'info',
      `no request for ${Math.round(this.config.idleStopMs! / 1000)} s: stopping it (idle; the next request wakes it)`,
    );
    this.resting = true;
    try {
      await this.halt('idle');
    } finally {
      this.resting = false;
    }
  }

  private submit(action: Action, run: () => Promise<void>): Promise<void> {
    if (this.disposing) {
      return Promise.reject(
        new McpdError('MCPD_CLOSED', `Server "${this.name}" was removed (or the daemon is stopping); it takes no more actions.`, {
          server: this.name,
        }),
      );
    }
    if (action === 'dispose') this.disposing = true;
    return this.actions.submit(action, run);
  }

  /** A start in progress is cut short (its attempt aborted); the action queued next cleans up. */
  private interruptStart(): void {
    if (this.currentState === 'starting') {
      this.attempt?.abort.abort(new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is stopping.`, { server: this.name }));
    }
  }

  private async doStart(): Promise<void> {
    if (this.currentState === 'running') return;
    if (this.currentState === 'starting') {
      // A retry from backoff is under way; it settles on its own.
      await this.starting?.catch(() => undefined);
      return;
    }
    if (this.currentState === 'backoff') {
      clearTimeout(this.retryTimer);
    } else {
      // A manual start (from stopped, failed, idle...) begins a fresh restart history.
      this.policy.reset();
      this.restarts = 0;
      this.lastError = null;
    }
    await this.launch();
  }

  /**
   * Ends the current attempt (whatever its state) and settles in `finalState`; `idle` keeps the
   * catalogue (clients go on seeing its tools), the others empty it.
   */
  private async halt(finalState: 'stopped' | 'disabled' | 'idle'): Promise<void> {
    this.idleClock.disarm();
    if (this.currentState === 'stopped' || this.currentState === 'disabled' || this.currentState === 'idle') {
      if (finalState !== 'idle') this.setLists(EMPTY_LISTS);
      if (this.currentState !== finalState && finalState !== 'idle') this.transition(finalState);
      return;
    }
    this.generation += 1; // whatever the current attempt still does is now stale
    clearTimeout(this.retryTimer);
    this.retryAt = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    // Status goes on saying how a remote server was reached (idle, it has no connection).
    if (attempt?.upstream?.transport) this.lastTransport = attempt.upstream.transport;
    attempt?.abort.abort(new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is stopping.`, { server: this.name }));
    this.transition('stopping');
    await this.starting?.catch(() => undefined); // an aborted start returns at once
    await this.teardown(attempt);
    await this.tearingDown;
    if (finalState === 'idle') this.keepCatalogue();
    else this.setLists(EMPTY_LISTS);
    this.transition(finalState);
  }

  /**
   * Resolves the next time a start of it has `initialize` answered, or settles without (the
   * caller then looks at the state): a woken server's request need not wait for its lists.
   */
  protected nextBoot(): Promise<void> {
    return new Promise((resolve) => this.bootWaiters.push(resolve));
  }

  /** Tells nextBoot's waiters: a start booted, or settled without. Returns how many there were. */
  private tellBootWaiters(): number {
    const waiters = this.bootWaiters.splice(0);
    for (const resolve of waiters) resolve();
    return waiters.length;
  }

  private launch(): Promise<void> {
    const attempt: Attempt = { generation: ++this.generation, abort: new AbortController(), logMark: this.deps.logs.lastSeq };
    this.attempt = attempt;
    this.retryAt = undefined;
    this.transition('starting');
    const starting = this.run(attempt).finally(() => {
      if (this.starting === starting) this.starting = undefined;
      this.tellBootWaiters();
    });
    this.starting = starting;
    return starting;
  }

  private isCurrent(attempt: Attempt): boolean {
    return this.attempt === attempt && attempt.generation === this.generation;
  }

  private async run(attempt: Attempt): Promise<void> {
    const { startupMs } = this.config.timeouts;
    let exit: ExitInfo | null | undefined;
    let closeReason: string | undefined;
    // Never two processes at once: a failed attempt's teardown finishes first.
    await this.tearingDown;
    if (!this.isCurrent(attempt) || attempt.abort.signal.aborted) return;
    // Queued behind other servers' starts; a stop meanwhile takes it out of the queue.
    const release = await this.gate.enter(attempt.abort.signal);
    if (!release) return;
    if (!this.isCurrent(attempt)) {
      release();
      return;
    }
    // startupMs bounds the whole start from here: spawn, initialize and every list page.
    const startup = new AbortController();
    const timedOut = new McpdError('MCPD_SERVER_INIT_TIMEOUT', '', { server: this.name });
    const timer = setTimeout(() => startup.abort(timedOut), startupMs);
    const onAbort = () => startup.abort(attempt.abort.signal.reason);
    attempt.abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const upstream = await openUpstream(this.config, this.deps, {
        onClosed: (info, reason) => {
          exit = info;
          closeReason = reason;
          if (this.isCurrent(attempt) && this.currentState === 'running') {
            void this.fail(
              attempt,
              lostError(this.config, info, reason, (m) => this.withStderr(m, attempt)),
            );
          }
        },
        onListChanged: (kind) => void this.refreshList(attempt, kind),
        onResourceUpdated: (uri) => {
          if (this.isCurrent(attempt)) this.emit('resource:updated', this.name, uri);
        },
        onActivity: () => {
          this.lastActivity = Date.now();
        },
        onSkippedLine: () => {
          this.skippedLines += 1;
        },
      });
      attempt.upstream = upstream;
      if (!this.isCurrent(attempt)) return; // the action that made it stale tears it down
      await upstream.initialize(startupMs, startup.signal);
      // Booted: the next in line may spawn while this one lists (a list is a reply, not a start-up).
      release();
      if (this.isCurrent(attempt)) {
        attempt.booted = true;
        // The requests that woke it go out before its lists: a server answers in the order it
        // reads, and a list (server-everything converts every tool's schema) costs it more than
        // an echo. They are sent within this turn of the event loop; the lists on the next.
        if (this.tellBootWaiters() > 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const lists = await upstream.listAll(startupMs, startup.signal);
      if (!this.isCurrent(attempt) || attempt.abort.signal.aborted) return;
      if (exit !== undefined) throw new Error('closed during listing');
      clearTimeout(timer);
      this.setLists(lists, undefined, true);
      this.runningSince = Date.now();
      this.lastActivity = Date.now();
      this.lastRanAt = undefined;
      // lastError stays after an automatic recovery (status shows why it restarted); a manual
      // start clears it.
      this.transition('running');
      attempt.health = new HealthMonitor({
        intervalMs: this.config.timeouts.pingIntervalMs,
        timeoutMs: this.config.timeouts.pingTimeoutMs,
        ping: (timeout) => upstream.ping(timeout),
        lastActivity: () => this.lastActivity,
        onHung: (missed) =>
          void this.fail(
            attempt,
            new McpdError('MCPD_SERVER_HUNG', `Server "${this.name}" missed ${missed} health pings in a row; restarting it.`, {
              server: this.name,
            }),
          ),
      });
      attempt.health.start();
      this.learned(upstream);
      this.idleClock.arm();
      this.deps.logs.append(
        this.name,
        'daemon',
        'info',
        `running: ${plural(lists.tools.length, 'tool')}, ${plural(lists.resources.length, 'resource')}, ${plural(lists.prompts.length, 'prompt')} (MCP ${upstream.protocolVersion() ?? '?'})`,
      );
    } catch (error) {
      // Cut short by stop/restart/dispose: the action that did it tears the attempt down.
      if (!this.isCurrent(attempt) || attempt.abort.signal.aborted) return;
      const reason = startup.signal.aborted && startup.signal.reason === timedOut ? timedOut : error;
      const transport = attempt.upstream?.transport;
      if (transport) this.lastTransport = transport;
      const failure = {
        error: reason,
        exit,
        closeReason: closeReason ?? attempt.upstream?.closeReason(),
        transport,
        wantedScope: attempt.upstream?.wantedScope(),
      };
      await this.fail(
        attempt,
        startError(this.config, failure, (m) => this.withStderr(m, attempt)),
      );
    } finally {
      clearTimeout(timer);
      attempt.abort.signal.removeEventListener('abort', onAbort);
      release();
    }
  }

  /** The message, and what this attempt's stderr says of why (logs/stderr-summary.ts). */
  private withStderr(message: string, attempt: Attempt): string {
    const said = stderrSummary(this.deps.logs.stderrTail(this.name, 200, attempt.logMark));
    return said.length === 0 ? message : `${message} Last stderr: ${said.join(' | ')}`;
  }

  /**
   * The current attempt failed: calls in flight fail now, the state says what comes next
   * (backoff or failed), the process is torn down, and only then does the backoff delay start.
   */
  protected async fail(attempt: Attempt, error: McpdError): Promise<void> {
    if (!this.isCurrent(attempt)) return;
    this.generation += 1; // callbacks of this attempt are stale from here on
    const runningSince = this.currentState === 'running' ? this.runningSince : undefined;
    attempt.failure = error;
    this.lastError = error;
    this.deps.logs.append(this.name, 'daemon', 'error', error.message);
    attempt.health?.stop();
    this.idleClock.disarm();
    this.setLists(EMPTY_LISTS);
    const teardown = this.teardown(attempt);
    const tearingDown = teardown.finally(() => {
      if (this.tearingDown === tearingDown) this.tearingDown = undefined;
    });
    this.tearingDown = tearingDown;
    if (error.code === 'MCPD_SERVER_COMMAND_NOT_FOUND' || error.details?.['permanent'] === true) {
      this.transition('failed');
      await tearingDown;
      return;
    }
    // Retrying cannot help until someone signs in: no loop, no crash budget spent.
    if (error.code === 'MCPD_SERVER_NEEDS_AUTH') {
      this.transition('needs-auth');
      await tearingDown;
      return;
    }
    const decision = this.policy.onFailure(Date.now(), runningSince);
    if (decision.action === 'give-up') {
      const { maxRestarts, windowMs } = this.config.restart;
      this.lastError = new McpdError(
        'MCPD_SERVER_CRASH_LOOP',
        `Server "${this.name}" failed ${decision.failuresInWindow} times within ${Math.round(windowMs / 1000)} s (limit ${maxRestarts}); giving up. Last error: ${error.message} Fix it, then run: mcpd server restart ${this.name}`,
        { server: this.name, cause: error },
      );
      this.deps.logs.append(this.name, 'daemon', 'error', this.lastError.message);
      this.transition('failed');
      await tearingDown;
      return;
    }
    this.restarts += 1;
    this.transition('backoff');
    const generation = this.generation;
    await tearingDown;
    if (this.generation !== generation || this.currentState !== 'backoff') return;
    this.retryAt = Date.now() + decision.delayMs;
    this.deps.logs.append(this.name, 'daemon', 'warn', `restarting in ${decision.delayMs} ms (restart ${this.restarts})`);
    this.retryTimer = setTimeout(() => {
      // An action under way (stop, restart...) decides instead.
      if (this.generation === generation && this.currentState === 'backoff' && !this.actions.busy) void this.launch();
    }, decision.delayMs);
  }

  private async teardown(attempt: Attempt | undefined): Promise<void> {
    if (!attempt) return;
    attempt.health?.stop();
    await attempt.upstream?.close();
  }

  private async refreshList(attempt: Attempt, kind: ListKind): Promise<void> {
    const upstream = attempt.upstream;
    if (!upstream || !this.isCurrent(attempt) || this.currentState !== 'running') return;
    try {
      const items = await upstream.list(kind, this.config.timeouts.callMs, attempt.abort.signal);
      if (!this.isCurrent(attempt)) return;
      this.setLists({ ...this.lists, [kind]: items }, kind);
      if (this.remembered) this.remembered = { ...this.remembered, lists: this.lists };
      this.keepCatalogue();
    } catch (error) {
      this.deps.logs.append(this.name, 'daemon', 'warn', `could not refresh ${kind} after list_changed: ${errorMessage(error)}`);
    }
  }

  /** What the server reported as it came up: kept, for while it is idle and for the next daemon. */
  private learned(upstream: Upstream): void {
    const capabilities = upstream.capabilities() ?? {};
    const instructions = upstream.instructions();
    const info = upstream.serverInfo();
    const protocolVersion = upstream.protocolVersion();
    // Templates answered before are kept; the server's own answer replaces them when asked.
    const templates = this.remembered?.templates;
    this.remembered = {
      lists: this.lists,
      capabilities,
      ...(instructions ? { instructions } : {}),
      ...(info ? { serverInfo: { name: info.name, version: info.version } } : {}),
      ...(protocolVersion ? { protocolVersion } : {}),
      ...(templates ? { templates } : {}),
    };
    this.keepCatalogue();
  }

  /** Its `resources/templates/list` answer, kept (finding a URI's owner then wakes no idle server). */
  protected learnedTemplates(templates: unknown[]): void {
    if (!this.remembered || JSON.stringify(this.remembered.templates) === JSON.stringify(templates)) return;
    this.remembered = { ...this.remembered, templates };
    this.keepCatalogue();
  }

  /** Writes what it reported to MCPD_HOME, for a server that may be idle (lazy, or with idleStopMs). */
  private keepCatalogue(): void {
    if (!this.memory || !this.remembered || this.config.ephemeral) return;
    if (this.config.start !== 'lazy' && this.config.idleStopMs === null) return;
    void this.memory.keep(this.config, { ...this.remembered, ...(this.lastRanAt ? { lastRanAt: this.lastRanAt } : {}) });
  }

  /**
   * `kept`: lists that equal the ones held are no change (a wake that finds the remembered lists
   * true). Without it every new list is announced, as the server's own list_changed asks.
   */
  private setLists(lists: ServerLists, only?: ListKind, kept = false): void {
    const previous = this.lists;
    const next = { ...lists };
    for (const kind of ['tools', 'resources', 'prompts'] as const) {
      if (kept && previous[kind] !== next[kind] && sameItems(previous[kind], next[kind])) (next[kind] as unknown[]) = previous[kind];
    }
    this.lists = next;
    for (const kind of ['tools', 'resources', 'prompts'] as const) {
      if (only && kind !== only) continue;
      if (previous[kind] === next[kind] || (previous[kind].length === 0 && next[kind].length === 0)) continue;
      this.emit('lists', this.name, kind, next);
    }
  }

  private transition(to: ServerState): void {
    const previous = this.currentState;
    if (previous === to) return;
    assertTransition(this.name, previous, to);
    this.currentState = to;
    if (previous === 'running') this.lastRanAt = Date.now();
    if (to !== 'running') this.runningSince = undefined;
    this.emit('state', { server: this.name, state: to, previous, status: this.status() });
  }
}
