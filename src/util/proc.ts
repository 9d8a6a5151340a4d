/**
 * What the kernel says of a process (Linux /proc), and whether it still runs. A zombie (exited,
 * not yet reaped by its parent — for a daemon started in the background that parent is init,
 * which may take its time) counts as gone. No dependencies: the thin CLI imports it.
 */
import { readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat after the command name (state first), or null. */
export function procStat(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(pid);
  return stat === null || stat[0] !== 'Z'; // no /proc (macOS): the signal said it exists
}
