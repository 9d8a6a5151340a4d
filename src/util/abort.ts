/**
 * Cancellation that costs nothing until it is used. Node's AbortSignal is an EventTarget, and
 * adding then removing one 'abort' listener costs a relay about 4 µs per tool call (a third of
 * what the call relay saved). A controller made here announces its abort to callbacks kept in a
 * plain set; for any other signal, `whenAborted` falls back to an event listener.
 */
const callbacks = new WeakMap<AbortSignal, Set<() => void>>();

/** An AbortController whose abort `whenAborted` hears without an event listener: abort it with `abortNow`. */
export function cheapAbortController(): AbortController {
  const controller = new AbortController();
  callbacks.set(controller.signal, new Set());
  return controller;
}

export function abortNow(controller: AbortController, reason: unknown): void {
  if (controller.signal.aborted) return;
  controller.abort(reason);
  const waiting = callbacks.get(controller.signal);
  if (!waiting) return;
  callbacks.delete(controller.signal);
  for (const callback of waiting) callback();
}

/** Runs `callback` once when `signal` aborts; returns the function that forgets it. */
export function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  const waiting = callbacks.get(signal);
  if (waiting) {
    waiting.add(callback);
    return () => waiting.delete(callback);
  }
  signal.addEventListener('abort', callback, { once: true });
  return () => signal.removeEventListener('abort', callback);
}
