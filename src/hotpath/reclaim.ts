/**
 * Gives memory back after a large message went through the daemon. V8 frees large strings only
 * at a major GC, and an idle daemon allocates too little to start one: after a 16 MiB result its
 * RSS could stay over 130 MB for minutes. So a message of LARGE_BYTES or more schedules one full
 * GC a second later (debounced: a burst of large results makes one), ~20 ms on this heap. V8
 * hands the freed pages back to the system some seconds after that (bench: under 100 MB ~9 s
 * after a 16 MiB result, where without it one run stayed at 130 MB for the 30 s it watched).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export const LARGE_BYTES = 4 * 1024 * 1024;
const DELAY_MS = 1_000;

let collect: (() => void) | null | undefined;
let timer: NodeJS.Timeout | undefined;

/** V8's `gc`, exposed once on first use (no command-line flag needed); null if it cannot be. */
function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

export function reclaimAfter(bytes: number): void {
  if (bytes < LARGE_BYTES) return;
  reclaimSoon();
}

/** One full GC a second from now (debounced). */
export function reclaimSoon(): void {
  clearTimeout(timer);
  timer = setTimeout(() => collector()?.(), DELAY_MS);
  timer.unref();
}
