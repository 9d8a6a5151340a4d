/**
 * Calls of a 2026-07-28 client that wait for the client between its requests. A 2025 upstream
 * asks mid-call (elicitation, sampling) and waits on the same connection; a 2026 client cannot be
 * asked mid-request, so mcpd ends the request with an input-required result and keeps the
 * upstream call running here, parked under an id that travels (sealed) in `requestState`. The
 * client's retry hands its answers in, and the call goes on until its result or the next question.
 * A parked call nobody comes back for is cancelled (the upstream is told) after a while.
 */
import { randomUUID } from 'node:crypto';
import { LazyAbort } from '../../hotpath/lazy-abort.js';

/** How long a call waits for the client's next request before it is cancelled. */
export const PARKED_TIMEOUT_MS = 10 * 60_000;

export type QuestionMethod = 'elicitation/create' | 'sampling/createMessage';

export interface Question {
  /** The key the client answers under (`inputResponses[key]`). */
  key: string;
  method: QuestionMethod;
  params: unknown;
  answer(result: unknown): void;
  fail(error: unknown): void;
}

export type Next =
  { kind: 'result'; result: Record<string, unknown> } | { kind: 'error'; error: unknown } | { kind: 'questions'; questions: Question[] };

export class ParkedCall {
  private named: string | undefined;
  /**
   * Aborts the upstream call: a timeout, the client gone, or the front closing. (Lazy: most
   * calls end without ever being parked or cancelled, and a signal per call costs: lazy-abort.ts.)
   */
  readonly cancellation = new LazyAbort();
  /** Asked by the upstream, not yet sent to the client. */
  private asked: Question[] = [];
  /** Sent to the client, not answered yet. */
  private readonly open = new Map<string, Question>();
  private ended: Next | undefined;
  private waiter: ((next: Next) => void) | undefined;
  private count = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Where the call's notifications (progress, log messages) go now: the request currently waiting on it. */
  notify: ((method: string, params: Record<string, unknown>) => void) | undefined;

  constructor(
    private readonly onNamed: (call: ParkedCall) => void,
    private readonly onExpired: (call: ParkedCall) => void,
  ) {}

  /** The id its sealed state names, made when first asked for (a call that is never parked needs none). */
  get id(): string {
    if (this.named === undefined) {
      this.named = randomUUID();
      this.onNamed(this);
    }
    return this.named;
  }

  /** The id, if it was ever made. */
  get idIfNamed(): string | undefined {
    return this.named;
  }

  /** Runs the call; `ask` is what its upstream's questions go to. */
  start(
    run: (ask: (method: QuestionMethod, params: unknown, signal: AbortSignal) => Promise<unknown>) => Promise<Record<string, unknown>>,
  ): void {
    run((method, params, signal) => this.ask(method, params, signal)).then(
      (result) => this.end({ kind: 'result', result }),
      (error: unknown) => this.end({ kind: 'error', error }),
    );
  }

  private ask(method: QuestionMethod, params: unknown, signal: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.count += 1;
      const question: Question = { key: `mcpd_${this.count}`, method, params, answer: resolve, fail: reject };
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      this.asked.push(question);
      this.wake();
    });
  }

  private end(next: Next): void {
    this.ended = next;
    clearTimeout(this.timer);
    this.wake();
  }

  /** Hands what is ready to the waiting request; questions asked in the same turn go together. */
  private wake(): void {
    if (!this.waiter) return;
    // The end goes at once; questions wait a turn, so that those asked together go together.
    if (this.ended) {
      const waiter = this.waiter;
      this.waiter = undefined;
      return waiter(this.ended);
    }
    setImmediate(() => {
      const waiter = this.waiter;
      if (!waiter) return;
      if (this.ended) {
        this.waiter = undefined;
        waiter(this.ended);
      } else if (this.asked.length > 0) {
        this.waiter = undefined;
        const questions = this.asked.splice(0);
        for (const q of questions) this.open.set(q.key, q);
        this.park();
        waiter({ kind: 'questions', questions });
      }
    });
  }

  /** The call's result, or its next questions: whichever comes first. */
  next(): Promise<Next> {
    clearTimeout(this.timer);
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.wake();
    });
  }

  /** Answers the open questions from a retry's `inputResponses`; the questions still open. */
  answer(responses: Record<string, unknown>): Question[] {
    for (const [key, question] of this.open) {
      if (!Object.hasOwn(responses, key)) continue;
      this.open.delete(key);
      question.answer(responses[key]);
    }
    return [...this.open.values()];
  }

  /** Waiting for the client: cancelled if it does not come back in time. */
  private park(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.cancel(new Error('the client did not answer in time'));
      this.onExpired(this);
    }, PARKED_TIMEOUT_MS);
    this.timer.unref();
  }

  cancel(reason: unknown): void {
    clearTimeout(this.timer);
    for (const q of [...this.open.values(), ...this.asked]) q.fail(reason);
    this.open.clear();
    this.asked = [];
    this.cancellation.abort(reason);
  }
}

/** The parked calls of one front. */
export class ParkedCalls {
  /** Every call not ended yet; those parked once are also found by their id. */
  private readonly live = new Set<ParkedCall>();
  private readonly byId = new Map<string, ParkedCall>();

  create(): ParkedCall {
    const call = new ParkedCall(
      (named) => this.byId.set(named.id, named),
      (expired) => this.delete(expired),
    );
    this.live.add(call);
    return call;
  }

  get(id: string): ParkedCall | undefined {
    return this.byId.get(id);
  }

  delete(call: ParkedCall): void {
    this.live.delete(call);
    const id = call.idIfNamed;
    if (id !== undefined) this.byId.delete(id);
  }

  closeAll(reason: unknown): void {
    for (const call of this.live) call.cancel(reason);
    this.live.clear();
    this.byId.clear();
  }
}
