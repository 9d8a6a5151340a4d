/**
 * Chat inside the daemon: sessions (kept on disk), the turn running in each, the clients
 * watching each, and the approvals they answer. Closing a client never stops a turn.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { ChatConfig } from '../config/types.js';
import type { CallToolResultJson } from '../control/protocol.js';
import { McpdError, errorMessage } from '../errors.js';
import { withTimeout } from '../util/time.js';
import type { Logger } from '../logs/store.js';
import type { ApprovalDecision, ChatEvent, ChatSessionSummary, ChatTurnResult, ToolEntry } from '../model.js';
import { createAnthropic, DEFAULT_MODEL, type AnthropicEnv } from './anthropic.js';
import { SessionStore, summarize, type ChatSession } from './session-store.js';
import { runTurn } from './turn.js';

/** A client attached to sessions: a control connection, seen through what chat needs of it. */
export interface ChatWatcher {
  readonly id: number;
  send(event: ChatEvent): void;
}

interface RunningTurn {
  turnId: string;
  abort: AbortController;
  done: Promise<ChatTurnResult>;
  owner: ChatWatcher | undefined;
  ownerCanApprove: boolean;
  text: string;
}

interface PendingApproval {
  owner: ChatWatcher;
  resolve: (decision: ApprovalDecision | null) => void;
  timer: NodeJS.Timeout;
}

export interface ChatServiceDeps {
  home: string;
  config: () => ChatConfig;
  tools: () => ToolEntry[];
  callTool: (name: string, input: Record<string, unknown>, signal: AbortSignal, sessionId: string) => Promise<CallToolResultJson>;
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

export class ChatService {
  readonly store: SessionStore;
  private readonly sessions = new Map<string, ChatSession>();
  private readonly running = new Map<string, RunningTurn>();
  private readonly watchers = new Map<string, Set<ChatWatcher>>();
  private readonly approvals = new Map<string, PendingApproval>();
  private anthropic: Anthropic | undefined;
  private closed = false;

  constructor(private readonly deps: ChatServiceDeps) {
    this.store = new SessionStore(join(deps.home, 'sessions'));
  }

  private client(): Anthropic {
    this.anthropic ??= createAnthropic(this.deps.env);
    return this.anthropic;
  }

  private session(id: string): ChatSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = this.store.load(id);
      this.sessions.set(id, session);
    }
    return session;
  }

  newSession(model?: string): ChatSessionSummary {
    this.client(); // says what to set before a session exists without a way to use it
    const session = this.store.create(model ?? this.deps.config().model ?? DEFAULT_MODEL);
    this.sessions.set(session.id, session);
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
      const parts = typeof message.content === 'string' ? [message.content] : message.content.flatMap((b) => (b.type === 'text' ? [b.text] : b.type === 'tool_use' ? [`[called ${b.name}]`] : []));
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
    for (const set of this.watchers.values()) set.delete(watcher);
    for (const [id, approval] of this.approvals) {
      if (approval.owner === watcher) this.settleApproval(id, null);
    }
    for (const turn of this.running.values()) if (turn.owner === watcher) turn.owner = undefined;
  }

  /** Runs one turn to its end (the turn goes on if the sender disconnects). */
  async send(options: SendOptions): Promise<ChatTurnResult> {
    if (this.closed) throw new McpdError('MCPD_CLOSED', 'The daemon is stopping; it starts no new chat turn.');
    const anthropic = this.client(); // no key: fail before touching the session
    const session = options.sessionId ? this.session(options.sessionId) : this.session(this.newSession(options.model).id);
    if (options.model && options.model !== session.model) session.model = options.model;
    if (this.running.has(session.id)) {
      throw new McpdError('MCPD_CHAT_BUSY', `A turn is already running in session ${session.id}; wait for it or cancel it (Ctrl-C).`);
    }
    if (options.watcher) this.attach(session.id, options.watcher);
    const turnId = `t${session.turns.length + 1}-${randomBytes(2).toString('hex')}`;
    const abort = new AbortController();
    const turn: RunningTurn = { turnId, abort, done: undefined as never, owner: options.watcher, ownerCanApprove: options.canApprove ?? false, text: '' };
    turn.done = runTurn(
      session,
      turnId,
      options.message,
      {
        anthropic,
        chat: this.deps.config(),
        tools: this.deps.tools,
        callTool: (name, input, signal) => this.deps.callTool(name, input, signal, session.id),
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
    });
    this.running.set(session.id, turn);
    const result = await turn.done;
    this.deps.log.info(`chat ${session.id} turn ${turnId}: ${result.stopReason} after ${result.steps} step(s), ${result.usage.inputTokens} in / ${result.usage.outputTokens} out tokens`);
    return result;
  }

  cancel(id: string): boolean {
    const turn = this.running.get(id);
    if (!turn) return false;
    turn.abort.abort(new McpdError('MCPD_CALL_CANCELLED', 'The turn was cancelled.'));
    for (const [requestId, approval] of this.approvals) if (requestId.startsWith(`${id}:`)) this.settleApproval(requestId, null);
    return true;
  }

  approve(requestId: string, decision: ApprovalDecision, watcher: ChatWatcher): boolean {
    const approval = this.approvals.get(requestId);
    if (!approval || approval.owner !== watcher) return false;
    this.settleApproval(requestId, decision);
    return true;
  }

  /** Refuses new turns, cancels every running one and waits for them to save (bounded). */
  async stop(): Promise<void> {
    this.closed = true;
    for (const id of this.running.keys()) this.cancel(id);
    if (this.running.size === 0) return;
    await withTimeout(Promise.allSettled([...this.running.values()].map((t) => t.done)), STOP_TURNS_TIMEOUT_MS, 'saving the running chat turns').catch((error: unknown) => this.deps.log.warn(errorMessage(error)));
  }

  private emit(sessionId: string, event: ChatEvent): void {
    for (const watcher of this.watchers.get(sessionId) ?? []) {
      // Approval requests go only to the client that started the turn.
      if (event.type === 'approval_request' && this.running.get(sessionId)?.owner !== watcher) continue;
      try {
        watcher.send(event);
      } catch {
        // a watcher that cannot take events is detached when its connection closes
      }
    }
  }

  private requestApproval(turn: RunningTurn, request: { requestId: string; name: string; input: unknown }): Promise<ApprovalDecision | null> {
    const owner = turn.owner;
    if (!owner || !turn.ownerCanApprove) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settleApproval(request.requestId, null), APPROVAL_TIMEOUT_MS);
      this.approvals.set(request.requestId, { owner, resolve, timer });
      const sessionId = request.requestId.split(':')[0]!;
      this.emit(sessionId, { type: 'approval_request', sessionId, turnId: turn.turnId, requestId: request.requestId, name: request.name, input: request.input });
    });
  }

  private settleApproval(requestId: string, decision: ApprovalDecision | null): void {
    const approval = this.approvals.get(requestId);
    if (!approval) return;
    clearTimeout(approval.timer);
    this.approvals.delete(requestId);
    approval.resolve(decision);
  }
}
