/**
 * Questions a turn puts to the person who started it (a tool approval, a server's elicitation,
 * a sampling approval), each waiting for that client's answer. A question is settled with null
 * when the client goes away, the turn or the call is cancelled, or nobody answers in time.
 */
import { randomBytes } from 'node:crypto';
import type { ChatWatcher } from '../ports/chat.js';
import type { ChatEvent } from '../protocol/types.js';

export const QUESTION_TIMEOUT_MS = 5 * 60_000;

export type QuestionKind = 'approval' | 'elicitation';

interface Pending {
  kind: QuestionKind;
  owner: ChatWatcher;
  sessionId: string;
  turnId: string;
  resolve: (answer: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface Ask {
  kind: QuestionKind;
  owner: ChatWatcher;
  sessionId: string;
  turnId: string;
  signal: AbortSignal;
  /** The event that puts the question, without the ids this adds. */
  event: (requestId: string) => Record<string, unknown> & { type: ChatEvent['type'] };
  requestId?: string | undefined;
}

export class Questions {
  private readonly pending = new Map<string, Pending>();

  /** How a question reaches the client (the session's watchers; questions go to the owner alone). */
  constructor(private readonly emit: (sessionId: string, event: ChatEvent) => void) {}

  ask<T>(ask: Ask): Promise<T | null> {
    const { owner, sessionId, turnId, signal } = ask;
    const requestId = ask.requestId ?? `${sessionId}:q-${randomBytes(4).toString('hex')}`;
    if (signal.aborted) return Promise.resolve(null);
    return new Promise<T | null>((resolve) => {
      const onAbort = () => this.settle(requestId, null);
      const timer = setTimeout(onAbort, QUESTION_TIMEOUT_MS);
      signal.addEventListener('abort', onAbort, { once: true });
      this.pending.set(requestId, {
        kind: ask.kind,
        owner,
        sessionId,
        turnId,
        timer,
        resolve: (answer) => {
          signal.removeEventListener('abort', onAbort);
          resolve(answer as T | null);
        },
      });
      this.emit(sessionId, { ...ask.event(requestId), sessionId, turnId, requestId } as ChatEvent);
    });
  }

  /** The person's answer; false when the question is not theirs, not of this kind, or gone. */
  answer(requestId: string, kind: QuestionKind, watcher: ChatWatcher, answer: unknown): boolean {
    const question = this.pending.get(requestId);
    if (!question || question.owner !== watcher || question.kind !== kind) return false;
    this.settle(requestId, answer);
    return true;
  }

  /** The client went away: the questions only it could answer are closed. */
  closeOwnedBy(watcher: ChatWatcher): void {
    for (const [id, question] of this.pending) if (question.owner === watcher) this.settle(id, null);
  }

  /** The session's turn ended or was cancelled. */
  closeSession(sessionId: string): void {
    for (const [id, question] of this.pending) if (question.sessionId === sessionId) this.settle(id, null);
  }

  private settle(requestId: string, answer: unknown): void {
    const question = this.pending.get(requestId);
    if (!question) return;
    clearTimeout(question.timer);
    this.pending.delete(requestId);
    // A question the daemon settled (not the person): the client takes its prompt down.
    if (answer === null)
      this.emit(question.sessionId, { type: 'request_closed', sessionId: question.sessionId, turnId: question.turnId, requestId });
    question.resolve(answer);
  }
}
