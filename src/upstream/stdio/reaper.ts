/**
 * Remembers, on disk, the process groups this daemon started, so that a daemon that was killed
 * outright (SIGKILL, OOM) leaves nothing behind for long: the next daemon reaps them at start.
 *
 * A record is trusted only as far as it can be checked: a group is reaped only when one of its
 * processes still carries this daemon instance's marker in its environment (MCPD_INSTANCE, set
 * for every server it spawns) and, for the leader, the same kernel start time. A pid reused by
 * someone else's process, or a record planted in the file, never gets a signal.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { procStat } from '../../util/proc.js';
import { groupAlive, groupMembers, signalGroup } from './process.js';

/** The environment variable that marks a server process as spawned by one daemon instance. */
export const INSTANCE_VARIABLE = 'MCPD_INSTANCE';

interface ChildRecord {
  pgid: number;
  server: string;
  /** Kernel start time of the leader (Linux), to tell our process from a reused pid. */
  startTime: string | null;
  /** The spawning daemon's instance marker, found in the environment of the group's processes. */
  instance?: string;
}

function processStartTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

function carriesMarker(pid: number, instance: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${INSTANCE_VARIABLE}=${instance}`);
  } catch {
    return false;
  }
}

/** Whether a recorded group is still the one this home's daemon started. */
function stillOurs(record: ChildRecord): boolean {
  if (!record.instance || !groupAlive(record.pgid)) return false;
  const leaderStart = processStartTime(record.pgid);
  if (leaderStart !== null && record.startTime !== null && leaderStart !== record.startTime) return false;
  return (groupMembers(record.pgid) ?? []).some((m) => m.state !== 'Z' && carriesMarker(m.pid, record.instance!));
}

export class ChildRegistry {
  private records = new Map<number, ChildRecord>();
  /** This daemon's marker, put in the environment of every server it spawns. */
  readonly instance = randomBytes(12).toString('hex');

  constructor(private readonly file: string) {}

  add(pgid: number, server: string): void {
    this.records.set(pgid, { pgid, server, startTime: processStartTime(pgid), instance: this.instance });
    this.save();
  }

  remove(pgid: number): void {
    if (this.records.delete(pgid)) this.save();
  }

  /** Synchronous, for the last moments of a crashing daemon. */
  killAllNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const record of this.records.values()) signalGroup(record.pgid, signal);
  }

  /**
   * Kills the groups a previous daemon of this home left behind, when they can be shown to be
   * its own; returns what it reaped and what it left alone as unverifiable.
   */
  async reapLeftovers(): Promise<{ reaped: ChildRecord[]; skipped: ChildRecord[] }> {
    let previous: ChildRecord[];
    try {
      const parsed: unknown = JSON.parse(readFileSync(this.file, 'utf8'));
      previous = Array.isArray(parsed) ? (parsed as ChildRecord[]).filter((r) => Number.isInteger(r?.pgid) && r.pgid > 1) : [];
    } catch {
      return { reaped: [], skipped: [] };
    }
    const reaped: ChildRecord[] = [];
    const skipped: ChildRecord[] = [];
    for (const record of previous) {
      if (!groupAlive(record.pgid)) continue;
      if (!stillOurs(record)) {
        skipped.push(record);
        continue;
      }
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
    return { reaped, skipped };
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.records.values()]), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
