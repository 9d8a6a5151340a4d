/**
 * Chat inside the daemon: sessions (kept on disk), the turn running in each, the clients
 * watching each, and the approvals they answer. Closing a client never stops a turn.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { ChatConfig, SamplingRule } from '../config/types.js';
import type { CallToolResultJson } from '../protocol/control.js';
import { McpdError, errorMessage } from '../errors.js';
import { withTimeout } from '../util/time.js';
import type { Logger } from '../logs/store.js';
import type { ApprovalDecision, ChatEvent, ChatSessionSummary, ChatTurnResult, ToolEntry } from '../protocol/types.js';
import type { ServerRequestHandler } from '../supervisor/managed-server.js';
import { assertApiKey, createAnthropic, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, type AnthropicEnv } from './anthropic.js';
import { sampleWithClaude, samplingPreview, samplingRefusal, samplingRule, type SampledAnswer, type SamplingParams } from './sampling.js';
import { addUsage, SessionStore, summarize, type ChatSession } from './session-store.js';
import { runTurn, type ToolProgress } from './turn.js';

/** A client attached to sessions: a control connection, seen through what chat needs of it. */
export interface ChatWatcher {
  readonly id: number;
  send(event: ChatEvent): void;
}

interface RunningTurn {
  sessionId: string;
  turnId: string;
  abort: AbortController;
  done: Promise<ChatTurnResult>;
  owner: ChatWatcher | undefined;
  ownerCanApprove: boolean;
  text: string;
}

/** A question to the person who started a turn: a tool approval, an elicitation, a sampling approval. */
interface PendingQuestion {
  kind: 'approval' | 'elicitation';
  owner: ChatWatcher;
  sessionId: string;
  turnId: string;
  resolve: (answer: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface ToolCallOptions {
  signal: AbortSignal;
  sessionId: string;
  onProgress: (progress: ToolProgress) => void;
  /** How the chat answers the server's elicitation and sampling requests during this call. */
  serverRequests: ServerRequestHandler;
}

/** How a sampling request is put to a person, when chat.sampling says to ask. */
export interface SamplingAsk {
  server: string;
  tool: string;
  preview: string;
  systemPrompt?: string;
  maxTokens: number;
}

export interface ChatServiceDeps {
  home: string;
  config: () => ChatConfig;
  tools: () => ToolEntry[];
  callTool: (name: string, input: Record<string, unknown>, options: ToolCallOptions) => Promise<CallToolResultJson>;
  env: AnthropicEnv;
  log: Logger;
}

export interface SendOptions {
  sessionId?: string | undefined;
  message: string;
  model?: string | undefined;
  watcher?: ChatWatcher | undefined;
  /** The sender can answer approval requests (an interactive terminal). */
  canApprove?: boolean | undefined;
}

const APPROVAL_TIMEOUT_MS = 5 * 60_000;
const STOP_TURNS_TIMEOUT_MS = 5_000;
/** A session nobody watches and no turn runs in leaves memory after this (it stays on disk). */
export const SESSION_IDLE_MS = 10 * 60_000;
/** At most this many sessions in memory; the least recently used idle ones go first. */
export const MAX_CACHED_SESSIONS = 32;
const SWEEP_EVERY_MS = 60_000;
const PRUNE_EVERY_MS = 6 * 60 * 60_000;
export const DEFAULT_RETENTION = { maxAgeDays: 30, maxTotalMB: 512 };

export class ChatService {
  readonly store: SessionStore;
  private readonly sessions = new Map<string, ChatSession>();
  private readonly running = new Map<string, RunningTurn>();
  private readonly watchers = new Map<string, Set<ChatWatcher>>();
  private readonly questions = new Map<string, PendingQuestion>();
  private anthropic: Promise<Anthropic> | undefined;
  private closed = false;
  private readonly lastUsed = new Map<string, number>();
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(private readonly deps: ChatServiceDeps) {
    this.store = new SessionStore(join(deps.home, 'sessions'));
    this.sweepTimer = setInterval(() => this.evictIdle(), SWEEP_EVERY_MS).unref();
    this.pruneTimer = setInterval(() => this.prune(), PRUNE_EVERY_MS).unref();
  }

  /** How many sessions are in memory now. */
  get cachedSessions(): number {
    return this.sessions.size;
  }

  /**
   * Drops from memory the sessions no turn runs in and no client watches: those idle for
   * SESSION_IDLE_MS, and past MAX_CACHED_SESSIONS the least recently used. They stay on disk.
   */
  evictIdle(now = Date.now(), idleMs = SESSION_IDLE_MS): number {
    const idle = [...this.sessions.keys()]
      .filter((id) => !this.running.has(id) && (this.watchers.get(id)?.size ?? 0) === 0)
      .sort((a, b) => (this.lastUsed.get(a) ?? 0) - (this.lastUsed.get(b) ?? 0));
    let evicted = 0;
    for (const id of idle) {
      const over = this.sessions.size > MAX_CACHED_SESSIONS;
      if (!over && now - (this.lastUsed.get(id) ?? 0) < idleMs) continue;
      const session = this.sessions.get(id)!;
      // A session that never had a turn was never written: it would be lost, so it stays until idle.
      if (session.turns.length === 0 && now - (this.lastUsed.get(id) ?? 0) < idleMs) continue;
      this.sessions.delete(id);
      this.lastUsed.delete(id);
      this.watchers.delete(id);
      evicted += 1;
    }
    return evicted;
  }

  /**
   * Deletes past sessions (and their full tool results) older than chat.retention.maxAgeDays,
   * then the oldest until what is left fits in maxTotalMB. Sessions in use are kept.
   */
  prune(now = Date.now()): { removed: string[] } {
    const { maxAgeDays, maxTotalMB } = { ...DEFAULT_RETENTION, ...this.deps.config().retention };
    const resultsDir = join(this.deps.home, 'tool-results');
    const files = this.store.files().map((f) => ({ ...f, bytes: f.bytes + dirSize(join(resultsDir, f.id)) }));
    let total = files.reduce((sum, f) => sum + f.bytes, 0);
    const removed: string[] = [];
    // Oldest first.
    for (const file of [...files].reverse()) {
      const inUse = this.running.has(file.id) || (this.watchers.get(file.id)?.size ?? 0) > 0;
      const tooOld = now - file.mtimeMs > maxAgeDays * 86_400_000;
      if (inUse || (!tooOld && total <= maxTotalMB * 1024 * 1024)) continue;
      this.store.remove(file.id);
      rmSync(join(resultsDir, file.id), { recursive: true, force: true });
      this.sessions.delete(file.id);
      total -= file.bytes;
      removed.push(file.id);
    }
    // Tool results whose session is gone.
    const known = new Set(files.map((f) => f.id).filter((id) => !removed.includes(id)));
    for (const name of safeReaddir(resultsDir)) {
      if (!known.has(name) && !this.sessions.has(name)) rmSync(join(resultsDir, name), { recursive: true, force: true });
    }
    if (removed.length > 0)
      this.deps.log.info(`pruned ${removed.length} chat session(s) past chat.retention (${maxAgeDays} days, ${maxTotalMB} MB)`);
    return { removed };
  }

  /** The Messages API client; the SDK is loaded on first use. Throws at once without a key. */
  private client(): Promise<Anthropic> {
    assertApiKey(this.deps.env);
    this.anthropic ??= createAnthropic(this.deps.env);
    return this.anthropic;
  }

  private session(id: string): ChatSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = this.store.load(id);
      this.sessions.set(id, session);
      if (this.sessions.size > MAX_CACHED_SESSIONS) this.evictIdle();
    }
    this.lastUsed.set(id, Date.now());
    return session;
  }

  newSession(model?: string): ChatSessionSummary {
    assertApiKey(this.deps.env); // says what to set before a session exists without a way to use it
    const session = this.store.create(model ?? this.deps.config().model ?? DEFAULT_MODEL);
    this.sessions.set(session.id, session);
    this.lastUsed.set(session.id, Date.now());
    if (this.sessions.size > MAX_CACHED_SESSIONS) this.evictIdle();
    return summarize(session, false);
  }

  list(): ChatSessionSummary[] {
    const onDisk = this.store.list().map((s) => this.sessions.get(s.id) ?? s);
    const unsaved = [...this.sessions.values()].filter((s) => s.turns.length > 0 && !onDisk.some((d) => d.id === s.id));
    return [...unsaved, ...onDisk].map((s) => summarize(s, this.running.has(s.id)));
  }

  summary(id: string): ChatSessionSummary {
    return summarize(this.session(id), this.running.has(id));
  }

  /** The conversation as text, for a client resuming it. */
  history(id: string): { role: 'user' | 'assistant'; text: string }[] {
    const out: { role: 'user' | 'assistant'; text: string }[] = [];
    for (const message of this.session(id).messages) {
      if (message.role !== 'user' && message.role !== 'assistant') continue;
      const parts =
        typeof message.content === 'string'
          ? [message.content]
          : message.content.flatMap((b) => (b.type === 'text' ? [b.text] : b.type === 'tool_use' ? [`[called ${b.name}]`] : []));
      if (parts.length > 0) out.push({ role: message.role, text: parts.join('\n') });
    }
    return out;
  }

  setModel(id: string, model: string): ChatSessionSummary {
    const session = this.session(id);
    session.model = model;
    if (session.turns.length > 0) this.store.save(session);
    return summarize(session, this.running.has(id));
  }

  attach(id: string, watcher: ChatWatcher): { session: ChatSessionSummary; runningTurnId: string | null; partialText: string } {
    const session = this.session(id);
    let set = this.watchers.get(id);
    if (!set) {
      set = new Set();
      this.watchers.set(id, set);
    }
    set.add(watcher);
    const turn = this.running.get(id);
    return { session: summarize(session, !!turn), runningTurnId: turn?.turnId ?? null, partialText: turn?.text ?? '' };
  }

  /** A client went away: stop sending to it; approvals only it could answer are denied. */
  detach(watcher: ChatWatcher): void {
    for (const [id, set] of this.watchers) {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(id);
    }
    for (const [id, question] of this.questions) {
      if (question.owner === watcher) this.settleQuestion(id, null);
    }
    for (const turn of this.running.values()) if (turn.owner === watcher) turn.owner = undefined;
  }

  /** Runs one turn to its end (the turn goes on if the sender disconnects). */
  async send(options: SendOptions): Promise<ChatTurnResult> {
    if (this.closed) throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; it starts no new chat turn.');
    // No key: fail before touching the session. Not awaited: the busy check and the running turn
    // are set without a pause between them (two sends must not both start a turn).
    const anthropic = this.client();
    anthropic.catch(() => undefined); // a failure is the turn's (it awaits it)
    const session = options.sessionId ? this.session(options.sessionId) : this.session(this.newSession(options.model).id);
    if (options.model && options.model !== session.model) session.model = options.model;
    if (this.running.has(session.id)) {
      throw new McpdError('MCPD_CHAT_BUSY', `A turn is already running in session ${session.id}; wait for it or cancel it (Ctrl-C).`);
    }
    if (options.watcher) this.attach(session.id, options.watcher);
    const turnId = `t${session.turns.length + 1}-${randomBytes(2).toString('hex')}`;
    const abort = new AbortController();
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
        tools: this.deps.tools,
        callTool: (name, input, signal, onProgress) =>
          this.deps.callTool(name, input, {
            signal,
            sessionId: session.id,
            onProgress,
            serverRequests: this.serverRequests(turn, session, name),
          }),
        approve: (request) => this.requestApproval(turn, request),
        emit: (event) => this.emit(session.id, event),
        save: () => this.store.save(session),
        toolResultPath: (toolUseId) => join(this.deps.home, 'tool-results', session.id, `${toolUseId}.txt`),
        onText: (delta) => {
          turn.text += delta;
        },
      },
      abort.signal,
    ).finally(() => {
      this.running.delete(session.id);
      this.lastUsed.set(session.id, Date.now());
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
    for (const [requestId, question] of this.questions) if (question.sessionId === id) this.settleQuestion(requestId, null);
    return true;
  }

  /** The person's answer to a tool approval or a sampling request. */
  approve(requestId: string, decision: ApprovalDecision, watcher: ChatWatcher): boolean {
    const question = this.questions.get(requestId);
    if (!question || question.owner !== watcher || question.kind !== 'approval') return false;
    this.settleQuestion(requestId, decision);
    return true;
  }

  /** chat.sampling of the running config. */
  get samplingRule(): SamplingRule {
    return samplingRule(this.deps.config());
  }

  /** The person's answer to a server's elicitation. */
  answer(requestId: string, result: ElicitResult, watcher: ChatWatcher): boolean {
    const question = this.questions.get(requestId);
    if (!question || question.owner !== watcher || question.kind !== 'elicitation') return false;
    this.settleQuestion(requestId, result);
    return true;
  }

  /**
   * A server's sampling request under chat.sampling: refused (`deny`), put to the person first
   * (`ask`, through `ask`; refused when there is nobody to ask), then answered with Claude.
   */
  async sample(
    params: SamplingParams,
    options: {
      server: string;
      model?: string | undefined;
      signal: AbortSignal;
      ask?: (() => Promise<ApprovalDecision | null>) | undefined;
    },
  ): Promise<SampledAnswer> {
    const config = this.deps.config();
    const rule = samplingRule(config);
    const declined = `mcpd declined the sampling request of server "${options.server}"`;
    if (rule === 'deny') throw samplingRefusal(`${declined}: its config forbids sampling (chat.sampling is "deny")`);
    if (rule === 'ask') {
      if (!options.ask)
        throw samplingRefusal(
          `${declined}: it needs a person's approval (chat.sampling is "ask") and nobody can answer here; set chat.sampling to "allow" to sample without asking`,
        );
      const decision = await options.ask();
      if (decision === null) throw samplingRefusal(`${declined}: nobody answered`);
      if (decision === 'no') throw samplingRefusal(`${declined}: the user declined it`);
    }
    let anthropic: Anthropic;
    try {
      anthropic = await this.client();
    } catch (error) {
      throw samplingRefusal(`${declined}: ${errorMessage(error)}`, -32603);
    }
    const model = options.model ?? config.model ?? DEFAULT_MODEL;
    const answer = await sampleWithClaude(anthropic, params, model, config.maxTokens ?? DEFAULT_MAX_TOKENS, options.signal);
    this.deps.log.info(
      `server ${options.server} sampled ${model}: ${answer.usage.inputTokens} in / ${answer.usage.outputTokens} out tokens`,
    );
    return answer;
  }

  /** The chat as the caller of one tool call: it answers what the server asks while the call runs. */
  private serverRequests(turn: RunningTurn, session: ChatSession, tool: string): ServerRequestHandler {
    const canAsk = () => turn.owner !== undefined && turn.ownerCanApprove;
    // Only what this turn can answer: the rest is declined, with a log line, by the connection.
    const rule = samplingRule(this.deps.config());
    const handler: ServerRequestHandler = {
      elicit: async (params, signal, server) => {
        if (!canAsk()) {
          this.deps.log.warn(`declined an elicitation of server ${server} (during ${tool}): the person who started the turn went away`);
          return { action: 'decline' };
        }
        const answer = await this.ask<ElicitResult>(turn, 'elicitation', signal, (requestId) => ({
          type: 'elicitation_request',
          requestId,
          server,
          tool,
          message: params.message,
          requestedSchema: (params as { requestedSchema?: Record<string, unknown> }).requestedSchema ?? {},
        }));
        return answer ?? { action: 'cancel' };
      },
      sample: async (params, signal, server) => {
        const both = AbortSignal.any([signal, turn.abort.signal]);
        const key = `sampling:${server}`;
        const ask =
          canAsk() && !session.alwaysAllowed.includes(key)
            ? async () => {
                const decision = await this.ask<ApprovalDecision>(turn, 'approval', both, (requestId) => ({
                  type: 'sampling_request',
                  requestId,
                  server,
                  tool,
                  preview: samplingPreview(params),
                  ...(params.systemPrompt ? { systemPrompt: params.systemPrompt } : {}),
                  maxTokens: params.maxTokens,
                }));
                if (decision === 'always' && !session.alwaysAllowed.includes(key)) session.alwaysAllowed.push(key);
                return decision;
              }
            : session.alwaysAllowed.includes(key)
              ? async () => 'yes' as const
              : undefined;
        const answer = await this.sample(params, { server, model: session.model, signal: both, ask });
        // Sampling is paid with the person's key: it counts in the session's usage.
        session.usage = addUsage(session.usage, answer.usage);
        this.emit(session.id, {
          type: 'notice',
          sessionId: session.id,
          turnId: turn.turnId,
          message: `${server} sampled ${answer.result.model} (${answer.usage.inputTokens} in / ${answer.usage.outputTokens} out tokens)`,
        });
        return answer.result;
      },
    };
    if (!canAsk()) delete handler.elicit;
    if (rule === 'ask' && !canAsk() && !session.alwaysAllowed.some((k) => k.startsWith('sampling:'))) delete handler.sample;
    return handler;
  }

  /** Refuses new turns, cancels every running one and waits for them to save (bounded). */
  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.pruneTimer);
    for (const id of this.running.keys())
      this.cancel(
        id,
        new McpdError('MCPD_CLOSED', 'The daemon stopped during the turn; the session is kept: send again once it runs (mcpd start).'),
      );
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

  /**
   * Puts a question to the client that started the turn and waits for its answer: null when it
   * goes away, the turn or the call is cancelled (`signal`), or nobody answers in time.
   */
  private ask<T>(
    turn: RunningTurn,
    kind: PendingQuestion['kind'],
    signal: AbortSignal,
    event: (requestId: string) => Record<string, unknown> & { type: ChatEvent['type'] },
    requestId = `${turn.sessionId}:q-${randomBytes(4).toString('hex')}`,
  ): Promise<T | null> {
    const owner = turn.owner;
    const sessionId = turn.sessionId;
    if (!owner || signal.aborted) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      const onAbort = () => this.settleQuestion(requestId, null);
      const timer = setTimeout(onAbort, APPROVAL_TIMEOUT_MS);
      signal.addEventListener('abort', onAbort, { once: true });
      this.questions.set(requestId, {
        kind,
        owner,
        sessionId,
        turnId: turn.turnId,
        timer,
        resolve: (answer) => {
          signal.removeEventListener('abort', onAbort);
          resolve(answer as T | null);
        },
      });
      this.emit(sessionId, { ...event(requestId), sessionId, turnId: turn.turnId, requestId } as ChatEvent);
    });
  }

  private settleQuestion(requestId: string, answer: unknown): void {
    const question = this.questions.get(requestId);
    if (!question) return;
    clearTimeout(question.timer);
    this.questions.delete(requestId);
    // A question the daemon settled (not the person): the client takes its prompt down.
    if (answer === null)
      this.emit(question.sessionId, { type: 'request_closed', sessionId: question.sessionId, turnId: question.turnId, requestId });
    question.resolve(answer);
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes of the files in a folder, recursively (0 when it does not exist). */
function dirSize(dir: string): number {
  let total = 0;
  for (const name of safeReaddir(dir)) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      total += stat.isDirectory() ? dirSize(path) : stat.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}
