/**
 * Every process a server starts carries marks in its environment, and whatever it starts in turn
 * inherits them, even a process that leaves the server's process group with setsid() (a
 * daemonizing helper, a language server, `nohup`): the process group reaches most of a server's
 * tree, the marks reach the rest. On Linux the daemon finds them in /proc/PID/environ (a user can
 * read only their own processes' there, so another user's process is never taken for ours).
 *
 *   MCPD_HOME_MARK  which home's daemon started it (a digest of the home's path)
 *   MCPD_INSTANCE   which daemon instance
 *   MCPD_SPAWN      which spawn of which server
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { procStat } from '../../util/proc.js';
import { delay } from '../../util/time.js';

export const HOME_VARIABLE = 'MCPD_HOME_MARK';
export const INSTANCE_VARIABLE = 'MCPD_INSTANCE';
export const SPAWN_VARIABLE = 'MCPD_SPAWN';

export interface Marks {
  home?: string;
  instance?: string;
  spawn?: string;
}

/** The mark of a home: the same for every daemon of that home, and nothing else. */
export function homeMark(home: string): string {
  return createHash('sha256').update(`mcpd-home:${home}`).digest('hex').slice(0, 24);
}

const NAMES: Record<string, keyof Marks> = { [HOME_VARIABLE]: 'home', [INSTANCE_VARIABLE]: 'instance', [SPAWN_VARIABLE]: 'spawn' };

/** A process's marks, or undefined when it has none (or is not ours to read, or is gone). */
function marksOf(pid: number): Marks | undefined {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  if (!environ.includes('MCPD_')) return undefined;
  let marks: Marks | undefined;
  for (const entry of environ.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=');
    const key = NAMES[entry.slice(0, eq)];
    if (eq > 0 && key) (marks ??= {})[key] = entry.slice(eq + 1);
  }
  return marks;
}

/**
 * The live processes (zombies left out) whose marks `match`, this process excepted; [] where
 * there is no /proc.
 */
export function findMarked(match: (marks: Marks) => boolean): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const marks = marksOf(pid);
    if (marks && match(marks) && procStat(pid)?.[0] !== 'Z') found.push(pid);
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

/** SIGKILL now, for the last moments of a crashing daemon. */
export function killMarkedNow(match: (marks: Marks) => boolean): number {
  const pids = findMarked(match);
  for (const pid of pids) signal(pid, 'SIGKILL');
  return pids.length;
}

/**
 * Ends the processes whose marks `match`: SIGTERM, then SIGKILL for what still runs after
 * `graceMs`. Resolves with how many there were, once they are gone (or SIGKILL was sent).
 */
export async function endMarked(match: (marks: Marks) => boolean, graceMs: number): Promise<number> {
  const pids = findMarked(match);
  if (pids.length === 0) return 0;
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = pids;
  // Still there, still marked (a pid reused meanwhile is someone else's and is left alone).
  const stillMarked = (pid: number) => {
    const marks = marksOf(pid);
    return marks !== undefined && match(marks) && procStat(pid)?.[0] !== 'Z';
  };
  while (left.length > 0 && Date.now() < deadline) {
    await delay(25);
    left = left.filter(stillMarked);
  }
  for (const pid of left.filter(stillMarked)) signal(pid, 'SIGKILL');
  return pids.length;
}
