/**
 * Whether a process still runs. A zombie (exited, not yet reaped by its parent — for a daemon
 * started in the background that parent is init, which may take its time) counts as gone.
 * No dependencies: the thin CLI imports it.
 */
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): the signal said it exists
  }
}
