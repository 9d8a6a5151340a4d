/**
 * At most N servers coming up at once (spawn until `initialize` is answered: the child's own
 * start-up, where its CPU goes); the rest wait in order. Its lists follow outside the gate.
 * Unbounded, a cold start of many servers on a small machine starves each of CPU until their
 * `startupMs` runs out (one host lost 74 of 99 servers so). A server's `startupMs` counts from
 * when it leaves the queue, so a long queue causes no time-out.
 */
import { availableParallelism } from 'node:os';

/** Twice the cores: starting is mostly waiting on a child's own start-up, not on mcpd. */
export const DEFAULT_START_CONCURRENCY = 2 * availableParallelism();

export class StartGate {
  private running = 0;
  private readonly waiting: { admit: () => void }[] = [];

  constructor(readonly limit: number = DEFAULT_START_CONCURRENCY) {}

  /** How many starts wait for a slot now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with the function that frees the slot once one is free, or with undefined when
   * `signal` aborts first (a stop while queued: nothing was started, nothing to free).
   */
  enter(signal: AbortSignal): Promise<(() => void) | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (this.running < this.limit) {
      this.running += 1;
      return Promise.resolve(this.exit());
    }
    return new Promise((resolve) => {
      const entry = {
        admit: () => {
          signal.removeEventListener('abort', leave);
          this.running += 1;
          resolve(this.exit());
        },
      };
      const leave = () => {
        const index = this.waiting.indexOf(entry);
        if (index !== -1) this.waiting.splice(index, 1);
        resolve(undefined);
      };
      signal.addEventListener('abort', leave, { once: true });
      this.waiting.push(entry);
    });
  }

  /** The release of one slot, which admits the next in line; a second call does nothing. */
  private exit(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running -= 1;
      this.waiting.shift()?.admit();
    };
  }
}
