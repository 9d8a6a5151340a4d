/**
 * Runs one server's lifecycle actions (start, stop, restart, dispose) one at a time, in order.
 * Concurrent requests coalesce: an action of the same kind waiting at the tail, or running with
 * nothing queued behind it, is joined (ten restarts in a row are one restart).
 */
export interface QueuedAction<K extends string> {
  kind: K;
  done: Promise<void>;
  /** `done`, then idle: what every caller of this action gets (the same promise for all). */
  settled: Promise<void>;
}

interface Pending<K extends string> extends QueuedAction<K> {
  run: () => Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class ActionQueue<K extends string> {
  private running: QueuedAction<K> | undefined;
  private readonly pending: Pending<K>[] = [];
  private idleWaiters: (() => void)[] = [];

  /** The action running now, if any. */
  get current(): K | undefined {
    return this.running?.kind;
  }

  get busy(): boolean {
    return this.running !== undefined || this.pending.length > 0;
  }

  /**
   * Runs `run` once every action queued before it has finished. Resolves (or rejects) with it,
   * but only once the queue is idle, so that callers see the state every action left.
   */
  submit(kind: K, run: () => Promise<void>): Promise<void> {
    const tail = this.pending.at(-1);
    if (tail?.kind === kind) return tail.settled;
    if (tail === undefined && this.running?.kind === kind) return this.running.settled;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const settled = done.then(
      () => this.idle(),
      (error: unknown) => this.idle().then(() => Promise.reject(error)),
    );
    this.pending.push({ kind, run, done, settled, resolve, reject });
    if (!this.running) void this.drain();
    return settled;
  }

  /** Resolves once nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(): Promise<void> {
    for (let next = this.pending.shift(); next; next = this.pending.shift()) {
      this.running = next;
      try {
        await next.run();
        next.resolve();
      } catch (error) {
        next.reject(error);
      }
    }
    this.running = undefined;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
