/**
 * A configured server (lifecycle.ts) and the calls it takes while it runs: each bounded by its
 * timeout, cancellable, and failing in words a person can act on (failures.ts).
 */
import type { CallToolResult, GetPromptResult, ReadResourceResult, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
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
  forward(request: ForwardedRequest, options: CallOptions = {}): Promise<unknown> {
    return this.call(request.method, options, (upstream, timeoutMs) => upstream.forward(request, { timeoutMs, ...perRequest(options) }));
  }

  /** What the server says it can do (from its `initialize`), while it runs. */
  capabilities(): ServerCapabilities | undefined {
    return this.currentState === 'running' ? this.attempt?.upstream?.capabilities() : undefined;
  }

  /** What the server says of how to use it, while it runs. */
  instructions(): string | undefined {
    return this.currentState === 'running' ? this.attempt?.upstream?.instructions() : undefined;
  }

  /** One request to the running server, its failure in words (failures.ts). */
  private async call<T>(what: string, options: CallOptions, run: (upstream: Upstream, timeoutMs: number) => Promise<T>): Promise<T> {
    const [attempt, upstream] = this.requireRunning();
    const timeoutMs = options.timeoutMs ?? this.config.timeouts.callMs;
    try {
      const result = await run(upstream, timeoutMs);
      this.lastActivity = Date.now();
      return result;
    } catch (error) {
      throw this.callFailed(attempt, error, what, timeoutMs, options.signal);
    }
  }

  private requireRunning(): [Attempt, Upstream] {
    const attempt = this.attempt;
    const upstream = attempt?.upstream;
    if (this.currentState !== 'running' || !attempt || !upstream) {
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
