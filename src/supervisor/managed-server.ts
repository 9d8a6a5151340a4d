/**
 * One configured server through its whole life: start, health, crash, backoff, give up, stop.
 * All state changes go through `transition`, which checks them against the state machine.
 */
import { EventEmitter } from 'eventemitter3';
import { ErrorCode as McpErrorCode, McpError, type CallToolResult, type GetPromptResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { McpdError, errorMessage } from '../errors.js';
import type { ServerState, ServerStateEvent, ServerStatus } from '../model.js';
import { Connection, type ConnectionDeps, type ListKind, type ServerLists } from './connection.js';
import { HealthMonitor } from './health.js';
import type { ExitInfo } from './process.js';
import { RestartPolicy } from './restart-policy.js';
import { assertTransition } from './state.js';

export interface ManagedServerEvents {
  state: (event: ServerStateEvent) => void;
  lists: (server: string, kind: ListKind, lists: ServerLists) => void;
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  onProgress?: ((progress: { progress: number; total?: number; message?: string }) => void) | undefined;
}

interface Attempt {
  generation: number;
  abort: AbortController;
  connection?: Connection;
  health?: HealthMonitor;
}

const EMPTY_LISTS: ServerLists = { tools: [], resources: [], prompts: [] };

function describeExit(exit: ExitInfo | null): string {
  if (!exit) return 'its connection closed';
  if (exit.signal) return `it was killed by ${exit.signal}`;
  return `it exited with code ${exit.code}`;
}

export class ManagedServer extends EventEmitter<ManagedServerEvents> {
  private currentState: ServerState;
  private readonly policy: RestartPolicy;
  private attempt: Attempt | undefined;
  private generation = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private runningSince: number | undefined;
  private lastActivity = Date.now();
  private restarts = 0;
  private skippedLines = 0;
  private lastError: McpdError | null = null;
  private lists: ServerLists = EMPTY_LISTS;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: ConnectionDeps,
    random: () => number = Math.random,
  ) {
    super();
    this.currentState = config.disabled ? 'disabled' : 'stopped';
    this.policy = new RestartPolicy(config.restart, random);
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
    const connection = this.attempt?.connection;
    const info = connection?.client.getServerVersion();
    return {
      name: this.name,
      transport: this.config.transport,
      state: this.currentState,
      pid: this.currentState === 'running' || this.currentState === 'starting' ? (connection?.pid ?? null) : null,
      runningSince: this.currentState === 'running' && this.runningSince ? new Date(this.runningSince).toISOString() : null,
      restarts: this.restarts,
      toolCount: this.lists.tools.length,
      resourceCount: this.lists.resources.length,
      promptCount: this.lists.prompts.length,
      lastError: this.lastError ? { code: this.lastError.code, message: this.lastError.message, ...(this.lastError.details ? { details: this.lastError.details } : {}) } : null,
      nextRetryMs: this.currentState === 'backoff' && this.retryAt ? Math.max(0, this.retryAt - Date.now()) : null,
      skippedStdoutLines: this.skippedLines,
      serverInfo: info ? { name: info.name, version: info.version } : null,
    };
  }

  /**
   * Starts the server (a manual start also clears `failed` and the crash history). Resolves once
   * this attempt settled: `running`, `backoff` or `failed`.
   */
  start(): Promise<void> {
    if (this.stopping) return this.stopping.then(() => this.start());
    if (this.currentState === 'running') return Promise.resolve();
    if (this.starting) return this.starting;
    if (this.currentState === 'backoff') {
      clearTimeout(this.retryTimer);
    } else {
      this.policy.reset();
      this.restarts = 0;
    }
    return this.launch();
  }

  /** Stops the server and everything it spawned; every caller gets the same promise. */
  stop(finalState: 'stopped' | 'disabled' = 'stopped'): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.currentState === 'stopped' || this.currentState === 'disabled') {
      if (this.currentState !== finalState) this.transition(finalState === 'disabled' ? 'disabled' : 'stopped');
      return Promise.resolve();
    }
    this.stopping = (async () => {
      this.generation += 1; // whatever the current attempt still does is now stale
      clearTimeout(this.retryTimer);
      this.retryAt = undefined;
      const attempt = this.attempt;
      this.attempt = undefined;
      attempt?.abort.abort(new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is stopping.`, { server: this.name }));
      this.transition('stopping');
      await this.starting?.catch(() => undefined); // an aborted start cleans up after itself
      await this.teardown(attempt);
      this.setLists(EMPTY_LISTS);
      this.transition(finalState);
    })().finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, options: CallOptions = {}): Promise<CallToolResult> {
    const connection = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      const result = await connection.client.callTool({ name, ...(args === undefined ? {} : { arguments: args }) }, undefined, {
        timeout,
        resetTimeoutOnProgress: true,
        // Always ask for progress: progress notifications are what extend the timeout.
        onprogress: (progress) => options.onProgress?.(progress),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.lastActivity = Date.now();
      return result as CallToolResult;
    } catch (error) {
      throw this.callError(error, `tool "${name}"`, timeout, options.signal);
    }
  }

  async readResource(uri: string, options: CallOptions = {}): Promise<ReadResourceResult> {
    const connection = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      return await connection.client.readResource({ uri }, { timeout, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      throw this.callError(error, `resource ${uri}`, timeout, options.signal);
    }
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: CallOptions = {}): Promise<GetPromptResult> {
    const connection = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      return await connection.client.getPrompt({ name, ...(args ? { arguments: args } : {}) }, { timeout, ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      throw this.callError(error, `prompt "${name}"`, timeout, options.signal);
    }
  }

  private requireRunning(): Connection {
    const connection = this.attempt?.connection;
    if (this.currentState !== 'running' || !connection) {
      const why = this.currentState === 'failed' && this.lastError ? ` (${this.lastError.message})` : '';
      throw new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is ${this.currentState}${why}.`, { server: this.name });
    }
    return connection;
  }

  private callError(error: unknown, what: string, timeoutMs: number, signal: AbortSignal | undefined): McpdError {
    if (error instanceof McpdError) return error;
    if (signal?.aborted) {
      return new McpdError('MCPD_CALL_CANCELLED', `Call to ${what} on server "${this.name}" was cancelled.`, { server: this.name, cause: error });
    }
    if (error instanceof McpError && error.code === McpErrorCode.RequestTimeout) {
      return new McpdError('MCPD_CALL_TIMEOUT', `Call to ${what} on server "${this.name}" timed out after ${timeoutMs} ms (the server was told to cancel it).`, {
        server: this.name,
        cause: error,
      });
    }
    if (error instanceof McpError && error.code === McpErrorCode.ConnectionClosed) {
      const why = this.lastError?.code === 'MCPD_SERVER_EXITED' ? ` (${this.lastError.message})` : '';
      return new McpdError('MCPD_CALL_FAILED', `Server "${this.name}" went away while the call to ${what} was in flight${why}; the call was not retried.`, {
        server: this.name,
        cause: error,
      });
    }
    return new McpdError('MCPD_CALL_FAILED', `Call to ${what} on server "${this.name}" failed: ${errorMessage(error)}`, { server: this.name, cause: error });
  }

  private launch(): Promise<void> {
    const attempt: Attempt = { generation: ++this.generation, abort: new AbortController() };
    this.attempt = attempt;
    this.retryAt = undefined;
    this.transition('starting');
    this.starting = this.run(attempt).finally(() => {
      if (this.attempt === attempt || this.attempt === undefined) this.starting = undefined;
    });
    return this.starting;
  }

  private isCurrent(attempt: Attempt): boolean {
    return this.attempt === attempt && attempt.generation === this.generation;
  }

  private async run(attempt: Attempt): Promise<void> {
    const { startupMs } = this.config.timeouts;
    let exit: ExitInfo | null | undefined;
    try {
      const connection = await Connection.open(
        this.config,
        this.deps,
        {
          onClosed: (info) => {
            exit = info;
            if (this.isCurrent(attempt) && this.currentState === 'running') {
              void this.fail(attempt, new McpdError('MCPD_SERVER_EXITED', this.withStderr(`Server "${this.name}" stopped unexpectedly: ${describeExit(info)}.`), {
                server: this.name,
                details: { exitCode: info?.code ?? null, signal: info?.signal ?? null },
              }));
            }
          },
          onListChanged: (kind) => void this.refreshList(attempt, kind),
          onActivity: () => {
            this.lastActivity = Date.now();
          },
          onSkippedLine: () => {
            this.skippedLines += 1;
          },
        },
        attempt.abort.signal,
      );
      attempt.connection = connection;
      if (!this.isCurrent(attempt)) {
        await connection.close();
        return;
      }
      const lists = await connection.listAll(startupMs, attempt.abort.signal);
      if (!this.isCurrent(attempt)) return;
      if (exit !== undefined) throw new Error('closed during listing');
      this.setLists(lists);
      this.runningSince = Date.now();
      this.lastActivity = Date.now();
      this.lastError = null;
      this.transition('running');
      attempt.health = new HealthMonitor({
        intervalMs: this.config.timeouts.pingIntervalMs,
        timeoutMs: this.config.timeouts.pingTimeoutMs,
        ping: (timeout) => connection.client.ping({ timeout }),
        lastActivity: () => this.lastActivity,
        onHung: (missed) =>
          void this.fail(attempt, new McpdError('MCPD_SERVER_HUNG', `Server "${this.name}" missed ${missed} health pings in a row; restarting it.`, { server: this.name })),
      });
      attempt.health.start();
      this.deps.logs.append(this.name, 'daemon', 'info', `running: ${lists.tools.length} tools, ${lists.resources.length} resources, ${lists.prompts.length} prompts`);
    } catch (error) {
      if (!this.isCurrent(attempt)) return;
      await this.fail(attempt, this.startError(error, exit));
    }
  }

  private startError(error: unknown, exit: ExitInfo | null | undefined): McpdError {
    if (error instanceof McpdError && error.code !== 'MCPD_TIMEOUT') return error;
    // Checked before the exit: a server that timed out is killed by us, which is not its crash.
    if (error instanceof McpError && error.code === McpErrorCode.RequestTimeout) {
      return new McpdError('MCPD_SERVER_INIT_TIMEOUT', this.withStderr(`Server "${this.name}" did not finish initializing within ${this.config.timeouts.startupMs} ms.`), {
        server: this.name,
        cause: error,
      });
    }
    if (exit !== undefined) {
      return new McpdError('MCPD_SERVER_EXITED', this.withStderr(`Server "${this.name}" stopped during startup: ${describeExit(exit)}.`), {
        server: this.name,
        details: { exitCode: exit?.code ?? null, signal: exit?.signal ?? null },
        cause: error,
      });
    }
    return new McpdError('MCPD_SERVER_INIT_FAILED', this.withStderr(`Server "${this.name}" failed to initialize: ${errorMessage(error)}`), { server: this.name, cause: error });
  }

  private withStderr(message: string): string {
    const tail = this.deps.logs.stderrTail(this.name, 5);
    return tail.length === 0 ? message : `${message} Last stderr: ${tail.join(' | ')}`;
  }

  /** The current attempt failed: tear it down, then back off, or give up. */
  private async fail(attempt: Attempt, error: McpdError): Promise<void> {
    if (!this.isCurrent(attempt)) return;
    this.generation += 1; // callbacks of this attempt are stale from here on
    const runningSince = this.currentState === 'running' ? this.runningSince : undefined;
    this.lastError = error;
    this.deps.logs.append(this.name, 'daemon', 'error', error.message);
    attempt.health?.stop();
    this.setLists(EMPTY_LISTS);
    if (error.code === 'MCPD_SERVER_COMMAND_NOT_FOUND') {
      this.transition('failed');
      await this.teardown(attempt);
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
      await this.teardown(attempt);
      return;
    }
    this.restarts += 1;
    this.retryAt = Date.now() + decision.delayMs;
    this.transition('backoff');
    this.deps.logs.append(this.name, 'daemon', 'warn', `restarting in ${decision.delayMs} ms (restart ${this.restarts})`);
    const generation = this.generation;
    this.retryTimer = setTimeout(() => {
      if (this.generation === generation && this.currentState === 'backoff') void this.launch();
    }, decision.delayMs);
    await this.teardown(attempt);
  }

  private async teardown(attempt: Attempt | undefined): Promise<void> {
    if (!attempt) return;
    attempt.health?.stop();
    await attempt.connection?.close();
  }

  private async refreshList(attempt: Attempt, kind: ListKind): Promise<void> {
    const connection = attempt.connection;
    if (!connection || !this.isCurrent(attempt) || this.currentState !== 'running') return;
    try {
      const items = await connection.list(kind, this.config.timeouts.callMs, attempt.abort.signal);
      if (!this.isCurrent(attempt)) return;
      this.setLists({ ...this.lists, [kind]: items }, kind);
    } catch (error) {
      this.deps.logs.append(this.name, 'daemon', 'warn', `could not refresh ${kind} after list_changed: ${errorMessage(error)}`);
    }
  }

  private setLists(lists: ServerLists, only?: ListKind): void {
    const previous = this.lists;
    this.lists = lists;
    for (const kind of ['tools', 'resources', 'prompts'] as const) {
      if (only && kind !== only) continue;
      if (previous[kind] === lists[kind] || (previous[kind].length === 0 && lists[kind].length === 0)) continue;
      this.emit('lists', this.name, kind, lists);
    }
  }

  private transition(to: ServerState): void {
    const previous = this.currentState;
    if (previous === to) return;
    assertTransition(this.name, previous, to);
    this.currentState = to;
    if (to !== 'running') this.runningSince = undefined;
    this.emit('state', { server: this.name, state: to, previous, status: this.status() });
  }
}
