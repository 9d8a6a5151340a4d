/** Chat inside the daemon: sessions, turns and the questions a turn puts to a person (chat/chat.ts). */
import type { ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import type { SampleRequestParams } from '../protocol/control.js';
import type { ServerRequestHandler } from '../protocol/calls.js';
import type { ApprovalDecision, ChatEvent, ChatSessionSummary, ChatTurnResult } from '../protocol/types.js';

/** A client attached to sessions: a control connection, seen through what chat needs of it. */
export interface ChatWatcher {
  readonly id: number;
  send(event: ChatEvent): void;
}

export interface SendOptions {
  sessionId?: string | undefined;
  message: string;
  model?: string | undefined;
  watcher?: ChatWatcher | undefined;
  /** The sender can answer approval requests (an interactive terminal). */
  canApprove?: boolean | undefined;
}

/** Puts a server's sampling request to a person: may it go to Claude? */
export type SamplingAsk = (question: SampleRequestParams, signal: AbortSignal) => Promise<'yes' | 'no'>;

export interface ChatPort {
  /** Whether the daemon's environment has a credential for the Messages API. */
  hasCredential(): boolean;
  newSession(model?: string): ChatSessionSummary;
  /** Runs one turn to its end (the turn goes on if the sender disconnects). */
  send(options: SendOptions): Promise<ChatTurnResult>;
  cancel(sessionId: string): boolean;
  attach(sessionId: string, watcher: ChatWatcher): { session: ChatSessionSummary; runningTurnId: string | null; partialText: string };
  /** A client went away: stop sending to it; approvals only it could answer are denied. */
  detach(watcher: ChatWatcher): void;
  /** The person's answer to a tool approval or a sampling request. */
  approve(requestId: string, decision: ApprovalDecision, watcher: ChatWatcher): boolean;
  /** What chat.approval says of a tool (a session's "always" answers counted): `allow`, `ask` or `deny`. */
  approvalFor(tool: string, sessionId?: string): 'allow' | 'ask' | 'deny';
  /** The person's answer to a server's elicitation. */
  answer(requestId: string, result: ElicitResult, watcher: ChatWatcher): boolean;
  list(): ChatSessionSummary[];
  summary(sessionId: string): ChatSessionSummary;
  /** The conversation as text, for a client resuming it. */
  history(sessionId: string): { role: 'user' | 'assistant'; text: string }[];
  setModel(sessionId: string, model: string): ChatSessionSummary;
  /**
   * How a call made outside chat (mcpd call) answers a server's sampling request, under
   * chat.sampling: with Claude, after `ask` when the rule is "ask". Undefined when it cannot be
   * answered at all (no one to ask and the rule is not "allow").
   */
  sampler(tool: string, ask: SamplingAsk | undefined): ServerRequestHandler['sample'];
}
