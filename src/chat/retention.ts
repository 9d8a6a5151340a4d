/**
 * What is kept on disk of past chat sessions (chat.retention): sessions older than maxAgeDays go,
 * then the oldest until what is left fits in maxTotalMB, their full tool results with them.
 * Sessions in use are kept.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionStore } from './session-store.js';

export const DEFAULT_RETENTION = { maxAgeDays: 30, maxTotalMB: 512 };

export interface PruneOptions {
  store: SessionStore;
  /** Where the full text of long tool results is kept, a folder per session. */
  resultsDir: string;
  retention: { maxAgeDays?: number | undefined; maxTotalMB?: number | undefined } | undefined;
  inUse: (id: string) => boolean;
  /** Sessions only in memory yet (their tool results are not strays). */
  cached: (id: string) => boolean;
  now: number;
}

export function prune(options: PruneOptions): { removed: string[]; maxAgeDays: number; maxTotalMB: number } {
  const { maxAgeDays, maxTotalMB } = { ...DEFAULT_RETENTION, ...stripUndefined(options.retention ?? {}) };
  const { store, resultsDir } = options;
  const files = store.files().map((f) => ({ ...f, bytes: f.bytes + dirSize(join(resultsDir, f.id)) }));
  let total = files.reduce((sum, f) => sum + f.bytes, 0);
  const removed: string[] = [];
  // Oldest first.
  for (const file of [...files].reverse()) {
    const tooOld = options.now - file.mtimeMs > maxAgeDays * 86_400_000;
    if (options.inUse(file.id) || (!tooOld && total <= maxTotalMB * 1024 * 1024)) continue;
    store.remove(file.id);
    rmSync(join(resultsDir, file.id), { recursive: true, force: true });
    total -= file.bytes;
    removed.push(file.id);
  }
  // Tool results whose session is gone.
  const known = new Set(files.map((f) => f.id).filter((id) => !removed.includes(id)));
  for (const name of safeReaddir(resultsDir)) {
    if (!known.has(name) && !options.cached(name)) rmSync(join(resultsDir, name), { recursive: true, force: true });
  }
  return { removed, maxAgeDays, maxTotalMB };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes of the files in a folder, recursively (0 when it does not exist). */
function dirSize(dir: string): number {
  let total = 0;
  for (const name of safeReaddir(dir)) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      total += stat.isDirectory() ? dirSize(path) : stat.size;
    } catch {
      // removed meanwhile
    }
  }
  return total;
}
