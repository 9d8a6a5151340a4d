/**
 * Remembers, on disk, the process groups this daemon started, so that a daemon that was killed
 * outright (SIGKILL, OOM) leaves nothing behind for long: the next daemon reaps them at start.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { groupAlive, signalGroup } from './process.js';

interface ChildRecord {
  pgid: number;
  server: string;
  /** Kernel start time of the leader (Linux), to tell our process from a reused pid. */
  startTime: string | null;
}

function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

export class ChildRegistry {
  private records = new Map<number, ChildRecord>();

  constructor(private readonly file: string) {}

  add(pgid: number, server: string): void {
    this.records.set(pgid, { pgid, server, startTime: processStartTime(pgid) });
    this.save();
  }

  remove(pgid: number): void {
    if (this.records.delete(pgid)) this.save();
  }

  /** Synchronous, for the last moments of a crashing daemon. */
  killAllNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const record of this.records.values()) signalGroup(record.pgid, signal);
  }

  /** Kills the groups a previous daemon of this home left behind; returns what it reaped. */
  async reapLeftovers(): Promise<ChildRecord[]> {
    let previous: ChildRecord[];
    try {
      previous = JSON.parse(readFileSync(this.file, 'utf8')) as ChildRecord[];
    } catch {
      return [];
    }
    const reaped: ChildRecord[] = [];
    for (const record of previous) {
      if (!groupAlive(record.pgid)) continue;
      const now = processStartTime(record.pgid);
      // Leader alive with another start time: the pid was reused by someone else's process.
      if (record.startTime !== null && now !== null && now !== record.startTime) continue;
      signalGroup(record.pgid, 'SIGTERM');
      reaped.push(record);
    }
    if (reaped.length > 0) {
      const deadline = Date.now() + 3_000;
      while (reaped.some((r) => groupAlive(r.pgid)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      for (const record of reaped) signalGroup(record.pgid, 'SIGKILL');
    }
    this.records.clear();
    this.save();
    return reaped;
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.records.values()]), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
