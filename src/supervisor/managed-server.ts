/**
 * One configured server through its whole life: start, health, crash, backoff, give up, stop.
 * All state changes go through `transition`, which checks them against the state machine.
 * Actions asked for from outside (start, stop, restart, dispose) run one at a time through an
 * ActionQueue; stop, restart and dispose cut short a start in progress. `disposed` is final.
 */
import {
  ErrorCode as McpErrorCode,
  McpError,
  type CallToolResult,
  type CompleteRequest,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
  type GetPromptResult,
  type ListResourceTemplatesRequest,
  type LoggingLevel,
  type ReadResourceResult,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { McpdError, errorMessage } from '../errors.js';
import type { ServerState, ServerStateEvent, ServerStatus } from '../protocol/types.js';
import { NotReadingError } from '../upstream/stdio/transport.js';
import { GuardedEmitter } from '../util/emitter.js';
import { ActionQueue } from './action-queue.js';
import { Connection, type ConnectionDeps, type ListKind, type ServerLists } from '../upstream/connection.js';
import { HealthMonitor } from './health.js';
import type { ExitInfo } from '../upstream/stdio/process.js';
import { RestartPolicy } from './restart-policy.js';
import { abortSignalOf, type Cancellation } from '../hotpath/lazy-abort.js';
import { forgetRawJson } from '../hotpath/raw-json.js';
import { plural } from '../util/plural.js';
import { needsSignIn, remoteStartError, type RemoteProtocol } from '../upstream/http/remote.js';
import { assertTransition } from './state.js';
import { z } from 'zod';

/** What mcpd checks of a tool result it relays: an object (content defaults to none). */
const RELAYED_RESULT = z.custom<CallToolResult>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
  message: 'a tool result must be an object',
});

/** The same check as RELAYED_RESULT, for a result that came through the call relay. */
function checkRelayed(result: unknown): CallToolResult {
  if (typeof result !== 'object' || result === null || Array.isArray(result))
    throw new McpError(McpErrorCode.InvalidParams, 'a tool result must be an object');
  return result as CallToolResult;
}

export interface ManagedServerEvents {
  state: (event: ServerStateEvent) => void;
  lists: (server: string, kind: ListKind, lists: ServerLists) => void;
  'resource:updated': (server: string, uri: string) => void;
}

export interface CallOptions {
  /** A control request's LazyAbort, or any AbortSignal. */
  signal?: Cancellation | undefined;
  timeoutMs?: number | undefined;
  onProgress?: ((progress: { progress: number; total?: number; message?: string }) => void) | undefined;
  /**
   * How the caller answers what the server asks while this call runs (elicitation, sampling).
   * Without it, such requests are declined.
   */
  serverRequests?: ServerRequestHandler | undefined;
}

/** A caller's answers to a server's requests; undefined for a kind it cannot take. */
export interface ServerRequestHandler {
  elicit?: (params: ElicitRequest['params'], signal: AbortSignal, server: string) => Promise<ElicitResult>;
  sample?: (params: CreateMessageRequest['params'], signal: AbortSignal, server: string) => Promise<CreateMessageResult>;
}

type Action = 'start' | 'stop' | 'restart' | 'dispose';

export type ForwardedRequest =
  | { method: 'logging/setLevel'; params: { level: LoggingLevel } }
  | { method: 'resources/subscribe' | 'resources/unsubscribe'; params: { uri: string } }
  | { method: 'resources/templates/list'; params: NonNullable<ListResourceTemplatesRequest['params']> }
  | { method: 'completion/complete'; params: CompleteRequest['params'] };

interface Attempt {
  generation: number;
  abort: AbortController;
  connection?: Connection;
  health?: HealthMonitor;
  /** Why it ended, once it failed: named in the error of every call it cut short. */
  failure?: McpdError;
}

const EMPTY_LISTS: ServerLists = { tools: [], resources: [], prompts: [] };

function describeExit(exit: ExitInfo | null, reason?: string): string {
  if (!exit) return reason ? `${reason} while its process was still running` : 'its connection closed';
  if (exit.signal) return `it was killed by ${exit.signal}`;
  return `it exited with code ${exit.code}`;
}

export class ManagedServer extends GuardedEmitter<ManagedServerEvents> {
  private currentState: ServerState;
  private readonly policy: RestartPolicy;
  private readonly actions = new ActionQueue<Action>();
  private attempt: Attempt | undefined;
  private generation = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt: number | undefined;
  private starting: Promise<void> | undefined;
  /** The teardown of a failed attempt, which a new attempt waits for (never two processes). */
  private tearingDown: Promise<void> | undefined;
  private runningSince: number | undefined;
  private lastActivity = Date.now();
  private restarts = 0;
  private skippedLines = 0;
  private lastError: McpdError | null = null;
  /** How a remote server was last reached (kept while it is down, for status). */
  private remoteProtocol: RemoteProtocol | undefined;
  private lists: ServerLists = EMPTY_LISTS;
  /**
   * The callers of the calls in flight that can answer the server's requests. A list, not a Set:
   * it churns on every call (hotpath/id-table.ts says why that matters).
   */
  private readonly callers: ServerRequestHandler[] = [];
  /** Set once dispose was asked for: from then on every action is refused. */
  private disposing = false;

  constructor(
    readonly config: ServerConfig,
    private readonly deps: ConnectionDeps,
    random: () => number = Math.random,
  ) {
    super((error, event) => deps.logs.append(config.name, 'daemon', 'error', `a listener of "${event}" failed: ${errorMessage(error)}`));
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
      // A remote server shows the transport it was reached with (Streamable HTTP or legacy SSE).
      transport:
        this.config.transport === 'stdio' ? 'stdio' : (connection?.remoteProtocol ?? this.remoteProtocol) === 'sse' ? 'sse' : 'http',
      state: this.currentState,
      pid: this.currentState === 'running' || this.currentState === 'starting' ? (connection?.pid ?? null) : null,
      runningSince: this.currentState === 'running' && this.runningSince ? new Date(this.runningSince).toISOString() : null,
      restarts: this.restarts,
      toolCount: this.lists.tools.length,
      resourceCount: this.lists.resources.length,
      promptCount: this.lists.prompts.length,
      lastError: this.lastError
        ? {
            code: this.lastError.code,
            message: this.lastError.message,
            ...(this.lastError.details ? { details: this.lastError.details } : {}),
          }
        : null,
      nextRetryMs: this.currentState === 'backoff' && this.retryAt ? Math.max(0, this.retryAt - Date.now()) : null,
      skippedStdoutLines: this.skippedLines,
      serverInfo: info ? { name: info.name, version: info.version } : null,
    };
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
      this.policy.reset();
      this.restarts = 0;
      this.lastError = null;
    }
    await this.launch();
  }

  /** Ends the current attempt (whatever its state) and settles in `finalState`. */
  private async halt(finalState: 'stopped' | 'disabled'): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'disabled') {
      if (this.currentState !== finalState) this.transition(finalState);
      return;
    }
    this.generation += 1; // whatever the current attempt still does is now stale
    clearTimeout(this.retryTimer);
    this.retryAt = undefined;
    const attempt = this.attempt;
    this.attempt = undefined;
    attempt?.abort.abort(new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is stopping.`, { server: this.name }));
    this.transition('stopping');
    await this.starting?.catch(() => undefined); // an aborted start returns at once
    await this.teardown(attempt);
    await this.tearingDown;
    this.setLists(EMPTY_LISTS);
    this.transition(finalState);
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, options: CallOptions = {}): Promise<CallToolResult> {
    const [attempt, connection] = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    const caller = options.serverRequests;
    if (caller) this.callers.push(caller);
    try {
      // A relay passes the server's result on as it came: no schema parse of every content block
      // (the client at the end validates what it uses), only the shape the daemon relies on.
      const params = { name, ...(args === undefined ? {} : { arguments: args }) };
      const relay = connection.calls;
      const result = relay
        ? checkRelayed(
            await relay.request('tools/call', params, { timeoutMs: timeout, signal: options.signal, onProgress: options.onProgress }),
          )
        : await connection.client.request({ method: 'tools/call', params }, RELAYED_RESULT, {
            timeout,
            resetTimeoutOnProgress: true,
            // Always ask for progress: progress notifications are what extend the timeout.
            onprogress: (progress) => options.onProgress?.(progress),
            ...(options.signal ? { signal: abortSignalOf(options.signal) } : {}),
          });
      this.lastActivity = Date.now();
      if (!Array.isArray(result.content)) {
        result.content = [];
        forgetRawJson(result);
      }
      return result;
    } catch (error) {
      throw this.callError(attempt, error, `tool "${name}"`, timeout, options.signal);
    } finally {
      if (caller) this.callers.splice(this.callers.indexOf(caller), 1);
    }
  }

  /**
   * Who answers a request the server sends (elicitation, sampling): the caller of the one call in
   * flight that can take it. A stdio server does not say which of its calls asked, so with
   * several such calls in flight it cannot be told, and the request is declined rather than sent
   * to the wrong client.
   */
  serverRequestTarget(kind: keyof ServerRequestHandler): { handler?: ServerRequestHandler; why?: string } {
    const able = [...new Set(this.callers)].filter((c) => c[kind] !== undefined);
    if (able.length === 1) return { handler: able[0]! };
    const what = kind === 'elicit' ? 'an elicitation' : 'a sampling request';
    if (able.length === 0) {
      return {
        why: `server "${this.name}" sent ${what} and no call in flight comes from a caller that can answer it (MCP clients of mcpd bridge or the HTTP gateway that declare ${kind === 'elicit' ? 'elicitation' : 'sampling'}, mcpd call and mcpd chat on a terminal${kind === 'sample' ? ', or any call when chat.sampling is "allow"' : ''})`,
      };
    }
    return {
      why: `server "${this.name}" sent ${what} while ${able.length} calls that could answer it were in flight; which one asked cannot be told`,
    };
  }

  async readResource(uri: string, options: CallOptions = {}): Promise<ReadResourceResult> {
    const [attempt, connection] = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      return await connection.client.readResource(
        { uri },
        { timeout, ...(options.signal ? { signal: abortSignalOf(options.signal) } : {}) },
      );
    } catch (error) {
      throw this.callError(attempt, error, `resource ${uri}`, timeout, options.signal);
    }
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: CallOptions = {}): Promise<GetPromptResult> {
    const [attempt, connection] = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      return await connection.client.getPrompt(
        { name, ...(args ? { arguments: args } : {}) },
        { timeout, ...(options.signal ? { signal: abortSignalOf(options.signal) } : {}) },
      );
    } catch (error) {
      throw this.callError(attempt, error, `prompt "${name}"`, timeout, options.signal);
    }
  }

  /** What the server says it can do (from its `initialize`), while it runs. */
  capabilities(): ServerCapabilities | undefined {
    return this.currentState === 'running' ? this.attempt?.connection?.client.getServerCapabilities() : undefined;
  }

  /**
   * Requests the catalogue does not model, passed to the server as they are (for the MCP fronts):
   * `logging/setLevel`, `resources/subscribe` and `unsubscribe`, `resources/templates/list`,
   * `completion/complete`.
   */
  async forward(request: ForwardedRequest, options: CallOptions = {}): Promise<unknown> {
    const [attempt, connection] = this.requireRunning();
    const timeout = options.timeoutMs ?? this.config.timeouts.callMs;
    const requestOptions = { timeout, ...(options.signal ? { signal: abortSignalOf(options.signal) } : {}) };
    try {
      switch (request.method) {
        case 'logging/setLevel':
          return await connection.client.setLoggingLevel(request.params.level, requestOptions);
        case 'resources/subscribe':
          return await connection.client.subscribeResource(request.params, requestOptions);
        case 'resources/unsubscribe':
          return await connection.client.unsubscribeResource(request.params, requestOptions);
        case 'resources/templates/list':
          return await connection.client.listResourceTemplates(request.params, requestOptions);
        case 'completion/complete':
          return await connection.client.complete(request.params, requestOptions);
      }
    } catch (error) {
      throw this.callError(attempt, error, request.method, timeout, options.signal);
    }
  }

  private requireRunning(): [Attempt, Connection] {
    const attempt = this.attempt;
    const connection = attempt?.connection;
    if (this.currentState !== 'running' || !attempt || !connection) {
      const why =
        (this.currentState === 'failed' || this.currentState === 'backoff' || this.currentState === 'needs-auth') && this.lastError
          ? ` (${this.lastError.message})`
          : '';
      throw new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is ${this.currentState}${why}.`, { server: this.name });
    }
    return [attempt, connection];
  }

  private callError(attempt: Attempt, error: unknown, what: string, timeoutMs: number, signal: Cancellation | undefined): McpdError {
    if (error instanceof McpdError) return error;
    if (signal?.aborted) {
      return new McpdError('MCPD_CALL_CANCELLED', `Call to ${what} on server "${this.name}" was cancelled.`, {
        server: this.name,
        cause: error,
      });
    }
    // The sign-in ran out (refresh failed, token revoked, more scope wanted): the server waits for one.
    const signIn = this.config.transport === 'http' ? needsSignIn(error, this.name, attempt.connection?.wantedScope()) : undefined;
    if (signIn) {
      void this.fail(attempt, signIn);
      return new McpdError('MCPD_SERVER_NEEDS_AUTH', `Call to ${what} failed: ${signIn.message}`, { server: this.name, cause: error });
    }
    if (error instanceof NotReadingError) {
      return new McpdError('MCPD_SERVER_NOT_READING', `Call to ${what} on server "${this.name}" failed: ${error.message}.`, {
        server: this.name,
        cause: error,
      });
    }
    if (error instanceof McpError && error.code === McpErrorCode.RequestTimeout) {
      return new McpdError(
        'MCPD_CALL_TIMEOUT',
        `Call to ${what} on server "${this.name}" timed out after ${timeoutMs} ms (the server was told to cancel it).`,
        {
          server: this.name,
          cause: error,
        },
      );
    }
    if ((error instanceof McpError && error.code === McpErrorCode.ConnectionClosed) || attempt.failure) {
      const why = attempt.failure ? ` (${attempt.failure.message})` : '';
      return new McpdError(
        'MCPD_CALL_FAILED',
        `Server "${this.name}" went away while the call to ${what} was in flight${why}; the call was not retried.`,
        {
          server: this.name,
          cause: error,
        },
      );
    }
    return new McpdError('MCPD_CALL_FAILED', `Call to ${what} on server "${this.name}" failed: ${errorMessage(error)}`, {
      server: this.name,
      cause: error,
    });
  }

  private launch(): Promise<void> {
    const attempt: Attempt = { generation: ++this.generation, abort: new AbortController() };
    this.attempt = attempt;
    this.retryAt = undefined;
    this.transition('starting');
    const starting = this.run(attempt).finally(() => {
      if (this.starting === starting) this.starting = undefined;
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
    // startupMs bounds the whole start: spawn, initialize and every list page.
    const startup = new AbortController();
    const timedOut = new McpdError('MCPD_SERVER_INIT_TIMEOUT', '', { server: this.name });
    const timer = setTimeout(() => startup.abort(timedOut), startupMs);
    const onAbort = () => startup.abort(attempt.abort.signal.reason);
    attempt.abort.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const connection = await Connection.open(this.config, this.deps, {
        serverRequestTarget: (kind) => this.serverRequestTarget(kind),
        onClosed: (info, reason) => {
          exit = info;
          closeReason = reason;
          if (this.isCurrent(attempt) && this.currentState === 'running') {
            const lost = info === null && this.config.transport === 'stdio';
            void this.fail(
              attempt,
              new McpdError(
                lost ? 'MCPD_SERVER_CONNECTION_LOST' : 'MCPD_SERVER_EXITED',
                this.withStderr(`Server "${this.name}" stopped unexpectedly: ${describeExit(info, reason)}.`),
                {
                  server: this.name,
                  details: { exitCode: info?.code ?? null, signal: info?.signal ?? null, ...(reason ? { reason } : {}) },
                },
              ),
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
      attempt.connection = connection;
      if (!this.isCurrent(attempt)) return; // the action that made it stale tears it down
      await connection.initialize(startupMs, startup.signal);
      const lists = await connection.listAll(startupMs, startup.signal);
      if (!this.isCurrent(attempt) || attempt.abort.signal.aborted) return;
      if (exit !== undefined) throw new Error('closed during listing');
      clearTimeout(timer);
      this.setLists(lists);
      this.runningSince = Date.now();
      this.lastActivity = Date.now();
      // lastError stays after an automatic recovery (status shows why it restarted); a manual
      // start clears it.
      this.transition('running');
      attempt.health = new HealthMonitor({
        intervalMs: this.config.timeouts.pingIntervalMs,
        timeoutMs: this.config.timeouts.pingTimeoutMs,
        ping: (timeout) => connection.client.ping({ timeout }),
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
      this.deps.logs.append(
        this.name,
        'daemon',
        'info',
        `running: ${plural(lists.tools.length, 'tool')}, ${plural(lists.resources.length, 'resource')}, ${plural(lists.prompts.length, 'prompt')}`,
      );
    } catch (error) {
      // Cut short by stop/restart/dispose: the action that did it tears the attempt down.
      if (!this.isCurrent(attempt) || attempt.abort.signal.aborted) return;
      const reason = startup.signal.aborted && startup.signal.reason === timedOut ? timedOut : error;
      if (attempt.connection?.remoteProtocol) this.remoteProtocol = attempt.connection.remoteProtocol;
      await this.fail(attempt, this.startError(reason, exit, closeReason, attempt.connection?.remoteProtocol));
    } finally {
      clearTimeout(timer);
      attempt.abort.signal.removeEventListener('abort', onAbort);
    }
  }

  private startError(
    error: unknown,
    exit: ExitInfo | null | undefined,
    closeReason: string | undefined,
    protocol: RemoteProtocol | undefined,
  ): McpdError {
    // Checked before the exit: a server that timed out is killed by us, which is not its crash.
    if (
      (error instanceof McpdError && error.code === 'MCPD_SERVER_INIT_TIMEOUT') ||
      (error instanceof McpError && error.code === McpErrorCode.RequestTimeout)
    ) {
      return new McpdError(
        'MCPD_SERVER_INIT_TIMEOUT',
        this.withStderr(
          `Server "${this.name}" did not finish starting (initialize and listing) within ${this.config.timeouts.startupMs} ms.`,
        ),
        {
          server: this.name,
          cause: error,
        },
      );
    }
    if (error instanceof McpdError && error.code !== 'MCPD_TIMEOUT') return error;
    if (this.config.transport === 'http') {
      const remote = remoteStartError(this.config, protocol ?? 'streamable-http', error, this.attempt?.connection?.wantedScope());
      if (remote) return remote;
    }
    if (exit !== undefined) {
      return new McpdError(
        'MCPD_SERVER_EXITED',
        this.withStderr(`Server "${this.name}" stopped during startup: ${describeExit(exit, closeReason)}.`),
        {
          server: this.name,
          details: { exitCode: exit?.code ?? null, signal: exit?.signal ?? null },
          cause: error,
        },
      );
    }
    return new McpdError('MCPD_SERVER_INIT_FAILED', this.withStderr(`Server "${this.name}" failed to initialize: ${errorMessage(error)}`), {
      server: this.name,
      cause: error,
    });
  }

  private withStderr(message: string): string {
    const tail = this.deps.logs.stderrTail(this.name, 5);
    return tail.length === 0 ? message : `${message} Last stderr: ${tail.join(' | ')}`;
  }

  /**
   * The current attempt failed: calls in flight fail now, the state says what comes next
   * (backoff or failed), the process is torn down, and only then does the backoff delay start.
   */
  private async fail(attempt: Attempt, error: McpdError): Promise<void> {
    if (!this.isCurrent(attempt)) return;
    this.generation += 1; // callbacks of this attempt are stale from here on
    const runningSince = this.currentState === 'running' ? this.runningSince : undefined;
    attempt.failure = error;
    this.lastError = error;
    this.deps.logs.append(this.name, 'daemon', 'error', error.message);
    attempt.health?.stop();
    this.setLists(EMPTY_LISTS);
    const teardown = this.teardown(attempt);
    const tearingDown = teardown.finally(() => {
      if (this.tearingDown === tearingDown) this.tearingDown = undefined;
    });
    this.tearingDown = tearingDown;
    if (error.code === 'MCPD_SERVER_COMMAND_NOT_FOUND') {
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
