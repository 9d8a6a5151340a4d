/**
 * One server process: spawned with execa in a process group of its own, so that stopping it
 * reaches every grandchild (`npx`, `sh -c` wrappers). Only the supervisor knows about processes.
 */
import { readdirSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { McpdError } from '../../errors.js';
import { procStat } from '../../util/proc.js';
import { delay, within } from '../../util/time.js';
import { endMarked, killMarkedNow } from './marks.js';

/** Spawn failures that trying again cannot change. */
const PERMANENT = new Set(['E2BIG', 'ENOEXEC', 'EACCES', 'ENOENT', 'ENAMETOOLONG']);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  server: string;
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** The spawn's mark in `env` (marks.ts): what it starts is ended with it, in its group or not. */
  mark?: string;
}

/** The stop escalation of DESIGN §5: stdin closed, then SIGTERM to the group, then SIGKILL. */
export const STOP_STDIN_GRACE_MS = 2_000;
export const STOP_TERM_GRACE_MS = 3_000;
const POLL_MS = 25;

export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any process of the group still runs. Zombies do not count: a grandchild whose parent
 * died is reaped by init, which may take its time, and it can no longer do anything.
 */
export function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const members = groupMembers(pgid);
  return members === null || members.some((m) => m.state !== 'Z');
}

/** The processes of a group with their states, from /proc (null where there is no /proc). */
export function groupMembers(pgid: number): { pid: number; state: string }[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const members: { pid: number; state: string }[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const fields = procStat(pid);
    if (fields?.[2] === String(pgid)) members.push({ pid, state: fields[0]! });
  }
  return members;
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
  return true;
}

export class ServerProcess {
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly server: string,
    readonly pid: number,
    readonly stdin: Writable,
    readonly stdout: Readable,
    readonly stderr: Readable,
    exited: Promise<ExitInfo>,
    private readonly mark: string | undefined,
  ) {
    this.exited = exited.then((info) => {
      this.exitInfo = info;
      return info;
    });
  }

  static async spawn(options: SpawnOptions): Promise<ServerProcess> {
    const subprocess = execa(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: false,
      detached: true, // setsid: its own process group, and no terminal signals from ours
      cleanup: false, // the supervisor stops it, with the escalation below
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
    });
    if (subprocess.pid === undefined || !subprocess.stdin || !subprocess.stdout || !subprocess.stderr) {
      const result = await subprocess;
      const errno = (result.cause as NodeJS.ErrnoException | undefined)?.code;
      // The same spawn fails the same way again: no retries.
      const permanent = errno !== undefined && PERMANENT.has(errno);
      const why = errno === 'E2BIG' ? 'its arguments and environment are more than one process can be given (E2BIG)' : result.shortMessage;
      throw new McpdError('MCPD_SERVER_SPAWN_FAILED', `Server "${options.server}": could not start ${options.command}: ${why}`, {
        server: options.server,
        details: { ...(errno ? { errno } : {}), permanent },
      });
    }
    // Only the 'exit' event says the process itself ended: the promise would also wait for stdio,
    // which a grandchild may hold open.
    const exited = new Promise<ExitInfo>((resolve) => {
      subprocess.once('exit', (code, signal) => resolve({ code, signal }));
    });
    subprocess.catch(() => undefined);
    // A server that closes its stdin early must not crash the daemon with EPIPE.
    subprocess.stdin.on('error', () => undefined);
    return new ServerProcess(options.server, subprocess.pid, subprocess.stdin, subprocess.stdout, subprocess.stderr, exited, options.mark);
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Stops the whole group with the full escalation; every caller gets the same promise. */
  stop(): Promise<void> {
    this.stopping ??= this.escalate();
    return this.stopping;
  }

  /** After the leader died on its own: end whatever it left in its group. */
  sweepGroup(): Promise<void> {
    this.stopping ??= this.sweep();
    return this.stopping;
  }

  private async escalate(): Promise<void> {
    this.stdin.end();
    if (!(await this.waitExit(STOP_STDIN_GRACE_MS))) {
      signalGroup(this.pid, 'SIGTERM');
      if (!(await this.waitExit(STOP_TERM_GRACE_MS))) {
        signalGroup(this.pid, 'SIGKILL');
        await this.waitExit(STOP_TERM_GRACE_MS);
      }
    }
    await this.sweep();
  }

  /** What is left of the group, and whatever carries the spawn's mark outside it (setsid). */
  private async sweep(): Promise<void> {
    if (groupAlive(this.pid)) {
      signalGroup(this.pid, 'SIGTERM');
      if (!(await waitUntil(() => !groupAlive(this.pid), STOP_TERM_GRACE_MS))) {
        signalGroup(this.pid, 'SIGKILL');
        await waitUntil(() => !groupAlive(this.pid), 1_000);
      }
    }
    const mark = this.mark;
    if (mark !== undefined) await endMarked((marks) => marks.spawn === mark, STOP_TERM_GRACE_MS);
  }

  /** At once: the group and whatever carries the spawn's mark (a spawn that cannot be recorded). */
  killNow(): void {
    signalGroup(this.pid, 'SIGKILL');
    const mark = this.mark;
    if (mark !== undefined) killMarkedNow((marks) => marks.spawn === mark);
  }

  private async waitExit(timeoutMs: number): Promise<boolean> {
    if (this.hasExited) return true;
    return (
      (await within(
        this.exited.then(() => true),
        timeoutMs,
      )) ?? false
    );
  }
}
