/**
 * A configured server (lifecycle.ts) and the calls it takes while it runs: each bounded by its
 * timeout, cancellable, and failing in words a person can act on (failures.ts).
 */
import type {
  CallToolResult,
  GetPromptResult,
  LoggingLevel,
  ReadResourceResult,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { McpdError } from '../errors.js';
import type { Cancellation } from '../hotpath/lazy-abort.js';
import { forgetRawJson } from '../hotpath/raw-json.js';
import type { CallOptions, ForwardedRequest } from '../protocol/calls.js';
import { needsSignIn } from '../upstream/http/errors.js';
import type { Upstream } from '../upstream/types.js';
import { callError } from './failures.js';
import { ServerLifecycle, type Attempt } from './lifecycle.js';

/** A round of a call whose caller answers the server's questions itself (protocol/calls.ts). */
export function isInputRequired(result: object): boolean {
  return (result as { resultType?: unknown }).resultType === 'input_required';
}

/** What a call's options say of this one request, passed to the upstream as they are. */
const perRequest = (options: CallOptions) => ({
  signal: options.signal,
  input: options.input,
  clientCapabilities: options.clientCapabilities,
  logLevel: options.logLevel,
  onLog: options.onLog,
});

export type { ManagedServerEvents } from './lifecycle.js';

export class ManagedServer extends ServerLifecycle {
  async callTool(name: string, args: Record<string, unknown> | undefined, options: CallOptions = {}): Promise<CallToolResult> {
    const result = await this.call(`tool "${name}"`, options, (upstream, timeoutMs) =>
      upstream.callTool(name, args, {
        timeoutMs,
        ...perRequest(options),
        onProgress: options.onProgress,
        answers: options.serverRequests,
        asTask: this.runsAsTask(name),
      }),
    );
    if (!Array.isArray(result.content) && !isInputRequired(result)) {
      result.content = [];
      forgetRawJson(result);
    }
    return result;
  }

  /** The tools its server runs only as tasks, found again when its tool list changes (not per call). */
  private taskOnly: { tools: unknown; names: Set<string> } = { tools: undefined, names: new Set() };

  private runsAsTask(name: string): boolean {
    const tools = this.currentLists.tools;
    if (this.taskOnly.tools !== tools) {
      this.taskOnly = { tools, names: new Set(tools.filter((t) => t.execution?.taskSupport === 'required').map((t) => t.name)) };
    }
    return this.taskOnly.names.has(name);
  }

  readResource(uri: string, options: CallOptions = {}): Promise<ReadResourceResult> {
    return this.call(`resource ${uri}`, options, (upstream, timeoutMs) =>
      upstream.readResource(uri, { timeoutMs, ...perRequest(options) }),
    );
  }

  getPrompt(name: string, args: Record<string, string> | undefined, options: CallOptions = {}): Promise<GetPromptResult> {
    return this.call(`prompt "${name}"`, options, (upstream, timeoutMs) =>
      upstream.getPrompt(name, args, { timeoutMs, ...perRequest(options) }),
    );
  }

  /**
   * Requests the catalogue does not model, passed to the server as they are (for the MCP fronts):
   * `logging/setLevel`, `resources/subscribe` and `unsubscribe`, `resources/templates/list`,
   * `completion/complete`.
   */
  async forward(request: ForwardedRequest, options: CallOptions = {}): Promise<unknown> {
    if (request.method === 'logging/setLevel') {
      this.logLevel = (request.params as { level?: LoggingLevel } | undefined)?.level;
      // Not worth waking for: told again when it next starts.
      if (this.wakes) return {};
    }
    const templates = this.remembered?.templates;
    if (request.method === 'resources/templates/list' && this.wakes && templates) return { resourceTemplates: templates };
    const result = await this.call(request.method, options, (upstream, timeoutMs) =>
      upstream.forward(request, { timeoutMs, ...perRequest(options) }),
    );
    if (request.method === 'resources/templates/list' && !(request.params as { cursor?: unknown } | undefined)?.cursor) {
      const { resourceTemplates, nextCursor } = result as { resourceTemplates?: unknown; nextCursor?: unknown };
      if (Array.isArray(resourceTemplates) && nextCursor === undefined) this.learnedTemplates(resourceTemplates);
    }
    return result;
  }

  /** The level a 2025 client last set (`logging/setLevel`): told to the server again when it wakes. */
  private logLevel: LoggingLevel | undefined;

  /** What the server says it can do (from its `initialize`): while it runs, or idle, as it last said. */
  capabilities(): ServerCapabilities | undefined {
    if (this.currentState === 'running') return this.attempt?.upstream?.capabilities();
    return this.wakes ? this.remembered?.capabilities : undefined;
  }

  /** What the server says of how to use it: while it runs, or idle, as it last said. */
  instructions(): string | undefined {
    if (this.currentState === 'running') return this.attempt?.upstream?.instructions();
    return this.wakes ? this.remembered?.instructions : undefined;
  }

  /** Keeps the server from an idle stop until the returned function is called (a resource subscription). */
  hold(): () => void {
    return this.idleClock.use();
  }

  /** Chat turns (and the like) that hold the server already: each holds it once. */
  private readonly holders = new WeakSet<Promise<unknown>>();

  /**
   * One request to the server, its failure in words (failures.ts). An idle server is woken for
   * it; a failure to wake is this request's, with the server's own error.
   */
  private async call<T>(what: string, options: CallOptions, run: (upstream: Upstream, timeoutMs: number) => Promise<T>): Promise<T> {
    const done = this.idleClock.use();
    try {
      const held = options.heldUntil;
      if (held && !this.holders.has(held)) {
        this.holders.add(held);
        const release = this.idleClock.use();
        held.then(release, release);
      }
      // Idle, or being woken by another request: this one waits for it too.
      if (!this.serves() && (this.wakes || this.currentState === 'starting')) await this.woken(options);
      const [attempt, upstream] = this.requireRunning();
      const timeoutMs = options.timeoutMs ?? this.config.timeouts.callMs;
      try {
        const result = await run(upstream, timeoutMs);
        this.lastActivity = Date.now();
        return result;
      } catch (error) {
        throw this.callFailed(attempt, error, what, timeoutMs, options.signal);
      }
    } finally {
      done();
    }
  }

  /**
   * Wakes it for a request, which goes out once the server answered `initialize` (its lists,
   * known from when it last ran, follow meanwhile: a first call then costs what the server's own
   * cold start does); a start that fails fails the request with why.
   */
  private async woken(options: CallOptions): Promise<void> {
    const waking = this.wake(options.signal);
    waking.catch(() => undefined); // the race below may leave it: its failure is the state's
    await Promise.race([waking, this.nextBoot()]);
    if (this.serves()) {
      const level = this.logLevel;
      if (level && this.attempt?.upstream?.capabilities()?.logging)
        void this.attempt.upstream
          .forward({ method: 'logging/setLevel', params: { level } }, { timeoutMs: this.config.timeouts.callMs })
          .catch(() => undefined);
      return;
    }
    if (this.lastError) throw this.lastError;
  }

  /** Running, or starting with `initialize` answered (a woken server, listing). */
  private serves(): boolean {
    return this.currentState === 'running' || (this.currentState === 'starting' && this.attempt?.booted === true);
  }

  private requireRunning(): [Attempt, Upstream] {
    const attempt = this.attempt;
    const upstream = attempt?.upstream;
    if (!this.serves() || !attempt || !upstream) {
      const why =
        (this.currentState === 'failed' || this.currentState === 'backoff' || this.currentState === 'needs-auth') && this.lastError
          ? ` (${this.lastError.message})`
          : '';
      throw new McpdError('MCPD_SERVER_NOT_RUNNING', `Server "${this.name}" is ${this.currentState}${why}.`, { server: this.name });
    }
    return [attempt, upstream];
  }

  private callFailed(attempt: Attempt, error: unknown, what: string, timeoutMs: number, signal: Cancellation | undefined): McpdError {
    if (error instanceof McpdError) return error;
    const cancelled = signal?.aborted === true;
    // The sign-in ran out (refresh failed, token revoked, more scope wanted): the server waits for one.
    const signIn =
      !cancelled && this.config.transport === 'http' ? needsSignIn(error, this.name, attempt.upstream?.wantedScope()) : undefined;
    if (signIn) {
      void this.fail(attempt, signIn);
      return new McpdError('MCPD_SERVER_NEEDS_AUTH', `Call to ${what} failed: ${signIn.message}`, { server: this.name, cause: error });
    }
    return callError(this.name, { error, what, timeoutMs, cancelled, attemptFailure: attempt.failure });
  }
}
