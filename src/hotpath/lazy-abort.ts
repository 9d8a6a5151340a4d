/**
 * Cancellation that costs nothing until it is used.
 *
 * Every control request can be cancelled, yet almost none is. On Node 20 an AbortSignal is the
 * dearest thing a relayed call allocates: each one survives the young-generation GC (V8 11's
 * scavenger keeps it, and what it reaches, until the next full GC; Node 22 does not), so a
 * signal per request made a fifth of the daemon's garbage survive, tripled the GC's pause and
 * cost a trivial control request 17 µs of CPU instead of 9. A `LazyAbort` holds the state and
 * its callbacks in plain fields, and makes a real AbortSignal only for code that asks for one.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private callbacks: Set<() => void> | undefined;
  private abortedWith: { reason: unknown } | undefined;

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** A real AbortSignal, made on first use, aborted when this is (already, if it was). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
    const waiting = this.callbacks;
    this.callbacks = undefined;
    if (waiting) for (const callback of waiting) callback();
  }

  /** Runs `callback` once on abort; returns the function that forgets it. */
  onAbort(callback: () => void): () => void {
    const waiting = (this.callbacks ??= new Set());
    waiting.add(callback);
    return () => waiting.delete(callback);
  }
}

/** What a call can be cancelled by: a signal, or a control request's lazy abort. */
export type Cancellation = AbortSignal | LazyAbort;

/** Runs `callback` once when `cancellation` aborts (not if it already has); returns the function that forgets it. */
export function whenAborted(cancellation: Cancellation, callback: () => void): () => void {
  if (cancellation instanceof LazyAbort) return cancellation.onAbort(callback);
  cancellation.addEventListener('abort', callback, { once: true });
  return () => cancellation.removeEventListener('abort', callback);
}

/** An AbortSignal for APIs that take only that (the SDK's request options, fetch). */
export function abortSignalOf(cancellation: Cancellation | undefined): AbortSignal | undefined {
  return cancellation instanceof LazyAbort ? cancellation.signal : cancellation;
}
