/**
 * What this daemon started, so that a daemon that was killed outright (SIGKILL, OOM, killed
 * while starting) leaves nothing behind for long: the next daemon of the home reaps it at start.
 *
 * Two ways, each trusted only as far as it can be checked. The marks (marks.ts): every process a
 * server started carries its home's mark in its environment, whether or not it was ever written
 * down, so on Linux the next daemon finds them all, even those that left their process group.
 * And the records on disk (children.json, where there is no /proc): a recorded group is reaped
 * only when one of its processes still carries the recording instance's mark and, for the
 * leader, the same kernel start time. A pid reused by someone else's process, or a record
 * planted in the file, never gets a signal.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../util/files.js';
import { procStat } from '../../util/proc.js';
import { endMarked, HOME_VARIABLE, homeMark, INSTANCE_VARIABLE, killMarkedNow, SPAWN_VARIABLE } from './marks.js';
import { groupAlive, groupMembers, signalGroup } from './process.js';

export { INSTANCE_VARIABLE } from './marks.js';

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
  /** This daemon's mark, put in the environment of every server it spawns. */
  readonly instance = randomBytes(12).toString('hex');
  /** The mark every daemon of this home puts there. */
  readonly home: string;
  private spawns = 0;
  /** The write that records the groups added since the last one (add). */
  private pending: Promise<void> | undefined;

  /** `home` defaults to the folder the records are kept in. */
  constructor(
    private readonly file: string,
    home = dirname(file),
  ) {
    this.home = homeMark(home);
  }

  /** The marks of one spawn, for its environment (marks.ts). */
  marksForSpawn(): { variables: Record<string, string>; spawn: string } {
    this.spawns += 1;
    const spawn = `${this.instance}.${this.spawns}`;
    return { spawn, variables: { [HOME_VARIABLE]: this.home, [INSTANCE_VARIABLE]: this.instance, [SPAWN_VARIABLE]: spawn } };
  }

  /**
   * Records a group; rejects with MCPD_HOME_FULL or MCPD_HOME_UNWRITABLE (naming the file) when
   * it cannot be written. The servers a start spawns in one go are written once, together (a
   * write per spawn had the daemon's start-up writing the file ten times over); a daemon killed
   * before that write leaves them findable by their marks.
   */
  add(pgid: number, server: string): Promise<void> {
    this.records.set(pgid, { pgid, server, startTime: processStartTime(pgid), instance: this.instance });
    this.pending ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.pending = undefined;
        try {
          this.save();
          resolve();
        } catch (error) {
          reject(error);
        }
      });
    });
    return this.pending.catch((error: unknown) => {
      this.records.delete(pgid);
      throw error;
    });
  }

  /** Forgets a group that is gone; a file that cannot be written then is only stale (its records are checked before use). */
  remove(pgid: number): void {
    if (!this.records.delete(pgid)) return;
    try {
      this.save();
    } catch {
      // the next add or reap writes it again
    }
  }

  /** Synchronous, for the last moments of a crashing daemon: every group, and every marked process. */
  killAllNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    for (const record of this.records.values()) signalGroup(record.pgid, signal);
    killMarkedNow((marks) => marks.instance === this.instance);
  }

  /**
   * Kills the groups a previous daemon of this home left behind, when they can be shown to be
   * its own; returns what it reaped and what it left alone as unverifiable.
   */
  async reapLeftovers(): Promise<{ reaped: ChildRecord[]; skipped: ChildRecord[]; marked: number }> {
    const { reaped, skipped } = await this.reapRecorded();
    // What a daemon of this home started and no record names (spawned just before a kill -9, or
    // gone from its group with setsid): found by its marks. Only one daemon holds the home, so
    // another instance's processes are a dead daemon's.
    const marked = await endMarked((marks) => marks.home === this.home && marks.instance !== this.instance, 3_000);
    return { reaped, skipped, marked };
  }

  private async reapRecorded(): Promise<{ reaped: ChildRecord[]; skipped: ChildRecord[] }> {
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
    try {
      this.save();
    } catch {
      // stale records are checked before use
    }
    return { reaped, skipped };
  }

  private save(): void {
    writeFileAtomic(this.file, JSON.stringify([...this.records.values()]));
  }
}
