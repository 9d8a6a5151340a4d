/**
 * Chat inside the daemon: sessions (kept on disk, cached in memory), the turn running in each,
 * the clients watching each, and the questions a turn puts to the person who started it.
 * Closing a client never stops a turn.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { ApprovalAction, ChatConfig } from '../config/types.js';
import { approvalFor } from './approval.js';
import { McpdError, errorMessage } from '../errors.js';
import type { Logger } from '../logs/store.js';
import type { ChatPort, ChatWatcher, SamplingAsk, SendOptions } from '../ports/chat.js';
import type { CallToolResultJson, ServerRequestHandler } from '../protocol/calls.js';
import type { ApprovalDecision, ChatEvent, ChatSessionSummary, ChatTurnResult, ToolEntry } from '../protocol/types.js';
import { withTimeout } from '../util/time.js';
import { assertApiKey, createAnthropic, DEFAULT_MODEL, hasCredential, type AnthropicEnv } from './anthropic.js';
import { Questions } from './questions.js';
import { closeUnanswered } from './repair.js';
import { prune } from './retention.js';
import { sampleUnderRule, samplingQuestion, type SampledAnswer, type SamplingParams } from './sampling.js';
import { SessionCache } from './session-cache.js';
import { SessionStore, summarize, type ChatSession } from './session-store.js';
import { turnAnswers, type AnsweringTurn } from './turn-answers.js';
import { runTurn, type ToolProgress } from './turn.js';

export { MAX_CACHED_SESSIONS, SESSION_IDLE_MS } from './session-cache.js';
export { DEFAULT_RETENTION } from './retention.js';

/** A turn under way in one session. */
interface RunningTurn extends AnsweringTurn {
  sessionId: string;
  done: Promise<ChatTurnResult>;
  text: string;
}

export interface ToolCallOptions {
  signal: AbortSignal;
  sessionId: string;
  onProgress: (progress: ToolProgress) => void;
  /** How the chat answers the server's elicitation and sampling requests during this call. */
  serverRequests: ServerRequestHandler;
  /** The turn: the server it calls is held from an idle stop until it ends. */
  heldUntil: Promise<unknown>;
  /** The call's tool has an App: the id of its view. */
  onAppView: (view: string) => void;
}

export interface ChatDeps {
  home: string;
  config: () => ChatConfig;
  /** The tools a session's turns offer Claude. */
  tools: (sessionId: string) => ToolEntry[];
  /** What the servers of a session's tools say of their own use (merged, labelled), if any say anything. */
  instructions: (sessionId: string) => string | undefined;
  callTool: (name: string, input: Record<string, unknown>, options: ToolCallOptions) => Promise<CallToolResultJson>;
  /** The dashboard link that shows a call's App (the REPL prints it on the tool's line). */
  appLink?: (view: string) => Promise<string>;
  env: AnthropicEnv;
  log: Logger;
}

const STOP_TURNS_TIMEOUT_MS = 5_000;
const SWEEP_EVERY_MS = 60_000;
const PRUNE_EVERY_MS = 6 * 60 * 60_000;

export class Chat implements ChatPort {
  readonly store: SessionStore;
  private readonly sessions: SessionCache;
  private readonly running = new Map<string, RunningTurn>();
  private readonly watchers = new Map<string, Set<ChatWatcher>>();
  private readonly questions: Questions;
  private anthropic: Promise<Anthropic> | undefined;
  private closed = false;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly deps: ChatDeps) {
    this.store = new SessionStore(join(deps.home, 'sessions'));
    this.sessions = new SessionCache(
      this.store,
      (id) => this.inUse(id),
      (id) => this.watchers.delete(id),
      (session) => this.mend(session),
    );
    this.questions = new Questions((sessionId, event) => this.emit(sessionId, event));
    this.sweepTimer = setInterval(() => this.evictIdle(), SWEEP_EVERY_MS).unref();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS).unref();
  }

  /** The clients watching a session now (by their ids). */
  watcherIds(sessionId: string): number[] {
    return [...(this.watchers.get(sessionId) ?? [])].map((w) => w.id);
  }

  /** How many sessions are in memory now. */
  get cachedSessions(): number {
    return this.sessions.size;
  }

  /** Drops from memory the sessions no turn runs in and no client watches (they stay on disk). */
  evictIdle(now = Date.now(), idleMs?: number): number {
    return this.sessions.evictIdle(now, idleMs);
  }

  /** Deletes past sessions under chat.retention (retention.ts); sessions in use are kept. */
  prune(now = Date.now()): { removed: string[] } {
    const result = prune({
      store: this.store,
      resultsDir: join(this.deps.home, 'tool-results'),
      retention: this.deps.config().retention,
      inUse: (id) => this.inUse(id),
      cached: (id) => this.sessions.has(id),
      now,
    });
    for (const id of result.removed) this.sessions.delete(id);
    if (result.removed.length > 0) {
      this.deps.log.info(
        `pruned ${result.removed.length} chat session(s) past chat.retention (${result.maxAgeDays} days, ${result.maxTotalMB} MB)`,
      );
    }
    return { removed: result.removed };
  }

  /** A session a killed daemon left with tool calls unanswered is closed up (repair.ts), and says so. */
  private mend(session: ChatSession): void {
    const closed = closeUnanswered(session.messages);
    if (closed.length === 0) return;
    this.deps.log.warn(
      `chat ${session.id}: ${closed.length} tool call(s) (${closed.join(', ')}) had no result: the daemon stopped during them; Claude is told so`,
    );
    this.saveQuietly(session);
  }

  /** Saves; a failure (a full disk) is logged, and the next save writes what this one could not. */
  private saveQuietly(session: ChatSession): Error | undefined {
    try {
      this.store.save(session);
      return undefined;
    } catch (error) {
      this.deps.log.warn(`chat ${session.id}: ${errorMessage(error)}`);
      return error as Error;
    }
  }

  private inUse(id: string): boolean {
    return this.running.has(id) || (this.watchers.get(id)?.size ?? 0) > 0;
  }

  /** Whether the daemon's environment has a credential for the Messages API. */
  hasCredential(): boolean {
    return hasCredential(this.deps.env);
  }

  /** The Messages API client; the SDK is loaded on first use. Throws at once without a key. */
  private client(): Promise<Anthropic> {
    assertApiKey(this.deps.env);
    this.anthropic ??= createAnthropic(this.deps.env);
    return this.anthropic;
  }

  newSession(model?: string): ChatSessionSummary {
    assertApiKey(this.deps.env); // says what to set before a session exists without a way to use it
    const session = this.store.create(model ?? this.deps.config().model ?? DEFAULT_MODEL);
    this.sessions.add(session);
    return summarize(session, false);
  }

  list(): ChatSessionSummary[] {
    const onDisk = this.store.list().map((s) => this.sessions.peek(s.id) ?? s);
    const unsaved = this.sessions.values().filter((s) => s.turns.length > 0 && !onDisk.some((d) => d.id === s.id));
    return [...unsaved, ...onDisk].map((s) => summarize(s, this.running.has(s.id)));
  }

  summary(id: string): ChatSessionSummary {
    return summarize(this.sessions.get(id), this.running.has(id));
  }

  history(id: string): { role: 'user' | 'assistant'; text: string }[] {
    const out: { role: 'user' | 'assistant'; text: string }[] = [];
    for (const message of this.sessions.get(id).messages) {
      if (message.role !== 'user' && message.role !== 'assistant') continue;
      const parts =
        typeof message.content === 'string'
          ? [message.content]
          : message.content.flatMap((b) =>
              b.type === 'text'
                ? [b.text]
                : b.type === 'tool_use'
                  ? [`[called ${b.name}]`]
                  : b.type === 'server_tool_use' && b.name.startsWith('tool_search')
                    ? [`[searched the tools for ${JSON.stringify((b.input as { query?: unknown }).query ?? '')}]`]
                    : [],
            );
      if (parts.length > 0) out.push({ role: message.role, text: parts.join('\n') });
    }
    return out;
  }

  setModel(id: string, model: string): ChatSessionSummary {
    const session = this.sessions.get(id);
    session.model = model;
    if (session.turns.length > 0) this.saveQuietly(session);
    return summarize(session, this.running.has(id));
  }

  attach(id: string, watcher: ChatWatcher): { session: ChatSessionSummary; runningTurnId: string | null; partialText: string } {
    const session = this.sessions.get(id);
    let set = this.watchers.get(id);
    if (!set) {
      set = new Set();
      this.watchers.set(id, set);
    }
    set.add(watcher);
    const turn = this.running.get(id);
    return { session: summarize(session, !!turn), runningTurnId: turn?.turnId ?? null, partialText: turn?.text ?? '' };
  }

  detach(watcher: ChatWatcher): void {
    for (const [id, set] of this.watchers) {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(id);
    }
    this.questions.closeOwnedBy(watcher);
    for (const turn of this.running.values()) if (turn.owner === watcher) turn.owner = undefined;
  }

  async send(options: SendOptions): Promise<ChatTurnResult> {
    if (this.closed) throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; it starts no new chat turn.');
    // No key: fail before touching the session. Not awaited: the busy check and the running turn
    // are set without a pause between them (two sends must not both start a turn).
    const anthropic = this.client();
    anthropic.catch(() => undefined); // a failure is the turn's (it awaits it)
    const session = options.sessionId ? this.sessions.get(options.sessionId) : this.sessions.get(this.newSession(options.model).id);
    if (options.model && options.model !== session.model) session.model = options.model;
    if (this.running.has(session.id)) {
      throw new McpdError('MCPD_CHAT_BUSY', `A turn is already running in session ${session.id}; wait for it or cancel it (Ctrl-C).`);
    }
    if (options.watcher) this.attach(session.id, options.watcher);
    const turnId = `t${session.turns.length + 1}-${randomBytes(2).toString('hex')}`;
    const abort = new AbortController();
    let unsaved = false;
    const turn: RunningTurn = {
      sessionId: session.id,
      turnId,
      abort,
      done: undefined as never,
      owner: options.watcher,
      ownerCanApprove: options.canApprove ?? false,
      text: '',
    };
    turn.done = runTurn(
      session,
      turnId,
      options.message,
      {
        anthropic,
        chat: this.deps.config(),
        tools: () => this.deps.tools(session.id),
        instructions: () => this.deps.instructions(session.id),
        ...(this.deps.appLink ? { appLink: this.deps.appLink } : {}),
        callTool: (name, input, signal, onProgress, onAppView) =>
          this.deps.callTool(name, input, {
            onAppView,
            signal,
            sessionId: session.id,
            onProgress,
            serverRequests: this.answersFor(turn, session, name),
            // A server this turn called is not stopped for idleness while the turn runs.
            heldUntil: turn.done,
          }),
        approve: (request) => this.requestApproval(turn, request),
        emit: (event) => this.emit(session.id, event),
        // A save that fails (a full disk) does not fail the turn: the person is told once, and the
        // next save that can be written writes what this one could not.
        save: () => {
          const failed = this.saveQuietly(session);
          if (failed && !unsaved) {
            this.emit(session.id, {
              type: 'notice',
              sessionId: session.id,
              turnId,
              message: `The session could not be saved: ${failed.message} It is kept in memory, and written once the disk takes it.`,
            });
          }
          unsaved = failed !== undefined;
        },
        toolResultPath: (toolUseId) => join(this.deps.home, 'tool-results', session.id, `${toolUseId}.txt`),
        onText: (delta) => {
          turn.text += delta;
        },
      },
      abort.signal,
    ).finally(() => {
      this.running.delete(session.id);
      this.sessions.touch(session.id);
    });
    this.running.set(session.id, turn);
    const result = await turn.done;
    this.deps.log.info(
      `chat ${session.id} turn ${turnId}: ${result.stopReason} after ${result.steps} step(s), ${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens`,
    );
    return result;
  }

  cancel(id: string, reason = new McpdError('MCPD_CALL_CANCELLED', 'The turn was cancelled.')): boolean {
    const turn = this.running.get(id);
    if (!turn) return false;
    turn.abort.abort(reason);
    this.questions.closeSession(id);
    return true;
  }

  approve(requestId: string, decision: ApprovalDecision, watcher: ChatWatcher): boolean {
    return this.questions.answer(requestId, 'approval', watcher, decision);
  }

  approvalFor(tool: string, sessionId?: string): ApprovalAction {
    let always: readonly string[] = [];
    if (sessionId !== undefined) {
      try {
        always = this.sessions.get(sessionId).alwaysAllowed;
      } catch {
        // a session since deleted: its "always" answers went with it
      }
    }
    return approvalFor(tool, this.deps.config().approval, always);
  }

  answer(requestId: string, result: ElicitResult, watcher: ChatWatcher): boolean {
    return this.questions.answer(requestId, 'elicitation', watcher, result);
  }

  sampler(tool: string, ask: SamplingAsk | undefined): ServerRequestHandler['sample'] {
    if (!ask && this.deps.config().sampling !== 'allow') return undefined;
    return async (params, signal, server) => {
      const question = ask ? async () => ask(samplingQuestion(server, tool, params), signal) : undefined;
      return (await this.sample(params, { server, signal, ask: question })).result;
    };
  }

  /** A server's sampling request under chat.sampling, answered with Claude (sampling.ts). */
  sample(
    params: SamplingParams,
    options: {
      server: string;
      model?: string | undefined;
      signal: AbortSignal;
      ask?: (() => Promise<ApprovalDecision | null>) | undefined;
    },
  ): Promise<SampledAnswer> {
    return sampleUnderRule(params, { ...options, config: this.deps.config(), client: () => this.client(), log: this.deps.log });
  }

  /** The chat as the caller of one tool call: it answers what the server asks while the call runs. */
  private answersFor(turn: RunningTurn, session: ChatSession, tool: string): ServerRequestHandler {
    return turnAnswers({
      turn,
      session,
      tool,
      rule: this.deps.config().sampling ?? 'ask',
      log: this.deps.log,
      ask: (kind, signal, event) => this.ask(turn, kind, signal, event),
      sample: (params, options) => this.sample(params, options),
      emit: (event) => this.emit(session.id, event),
    });
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.pruneTimer);
    for (const id of this.running.keys()) {
      this.cancel(
        id,
        new McpdError('MCPD_CLOSED', 'The daemon stopped during the turn; the session is kept: send again once it runs (mcpd start).'),
      );
    }
    if (this.running.size === 0) return;
    await withTimeout(
      Promise.allSettled([...this.running.values()].map((t) => t.done)),
      STOP_TURNS_TIMEOUT_MS,
      'saving the running chat turns',
    ).catch((error: unknown) => this.deps.log.warn(errorMessage(error)));
  }

  private emit(sessionId: string, event: ChatEvent): void {
    const forOwner =
      event.type === 'approval_request' ||
      event.type === 'elicitation_request' ||
      event.type === 'sampling_request' ||
      event.type === 'request_closed';
    for (const watcher of this.watchers.get(sessionId) ?? []) {
      // Questions go only to the client that started the turn.
      if (forOwner && this.running.get(sessionId)?.owner !== watcher) continue;
      try {
        watcher.send(event);
      } catch {
        // a watcher that cannot take events is detached when its connection closes
      }
    }
  }

  private requestApproval(
    turn: RunningTurn,
    request: { requestId: string; name: string; input: unknown },
  ): Promise<ApprovalDecision | null> {
    if (!turn.owner || !turn.ownerCanApprove) return Promise.resolve(null);
    return this.ask<ApprovalDecision>(
      turn,
      'approval',
      turn.abort.signal,
      () => ({ type: 'approval_request', name: request.name, input: request.input }),
      request.requestId,
    );
  }

  /** Puts a question to the client that started the turn (questions.ts); null when there is none. */
  private ask<T>(
    turn: RunningTurn,
    kind: 'approval' | 'elicitation',
    signal: AbortSignal,
    event: (requestId: string) => Record<string, unknown> & { type: ChatEvent['type'] },
    requestId?: string,
  ): Promise<T | null> {
    const owner = turn.owner;
    if (!owner) return Promise.resolve(null);
    return this.questions.ask<T>({ kind, owner, sessionId: turn.sessionId, turnId: turn.turnId, signal, event, requestId });
  }
}
