/** Waiting, always bounded and cancellable. */
import { McpdError } from '../errors.js';

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`'s value, or `undefined` once `ms` passed first; the timer is always cleared. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Races `work` (a promise, or a function whose result is awaited: what it throws rejects) against
 * a timeout: MCPD_TIMEOUT "WHAT timed out after N ms", or the error `timedOut` makes. The timer
 * is always cleared.
 */
export async function withTimeout<T>(work: Promise<T> | (() => T | Promise<T>), ms: number, timedOut: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(typeof timedOut === 'string' ? new McpdError('MCPD_TIMEOUT', `${timedOut} timed out after ${ms} ms`) : timedOut()),
      ms,
    );
  });
  try {
    return await Promise.race([typeof work === 'function' ? Promise.resolve().then(work) : work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `promise`, or its signal's reason once the signal aborts first (for work that takes no signal
 * itself; the caller ends that work, e.g. by closing its connection). The listener is removed.
 */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // Given up on once aborted: its own later failure is nobody's to handle.
  promise.catch(() => undefined);
  if (signal.aborted) throw signal.reason;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}
