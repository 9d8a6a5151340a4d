/**
 * One daemon per MCPD_HOME, enforced by an exclusive lock rather than by probing the socket
 * (a daemon whose event loop is busy answers slowly, not never).
 *
 * On Linux the lock is a listening socket in the abstract namespace, named after the user and the
 * home (or, should another user squat that name, after a secret kept in the home): binding it is
 * atomic, and the kernel releases it when the process dies, however it dies, so there is never a
 * stale lock. Elsewhere it is a file created with O_EXCL holding the
 * owner's pid, taken over when that pid is gone.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { McpdError } from '../errors.js';
import { homeIoError } from '../util/files.js';
import type { HomePaths } from './paths.js';

export interface HomeLock {
  release(): Promise<void>;
  /** Someone else holds the home's usual lock name: the daemon took its private one (and says so). */
  squatted?: boolean;
}

function alreadyRunning(paths: HomePaths): McpdError {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(paths.pidFile, 'utf8').trim()) || undefined;
  } catch {
    // not written yet: the other daemon is still starting
  }
  return new McpdError(
    'MCPD_DAEMON_ALREADY_RUNNING',
    `A daemon${pid ? ` (pid ${pid})` : ''} already runs for ${paths.home}. Use it (mcpd status), stop it first (mcpd stop), or give this one another home (--home DIR).`,
    { details: pid ? { pid } : {} },
  );
}

/**
 * An abstract socket's name for the home, `secret` or not. It fills the whole sun_path (108
 * bytes): Node 20 pads a shorter abstract name with zeros to that length and Node 22 does not, so
 * only a full-length name is the same address for both, and two daemons of different Node
 * versions still exclude each other.
 */
function lockName(paths: HomePaths, secret = ''): string {
  const id = createHash('sha256')
    .update(`${process.getuid?.() ?? ''}\0${realpathSync(paths.home)}${secret ? `\0${secret}` : ''}`)
    .digest('hex');
  return `\0${`mcpd-home-${id}`.padEnd(SUN_PATH_BYTES - 1, '.')}`;
}

/** The home's lock secret, made once: whole or not at all (a link cannot half-exist). */
function lockSecret(paths: HomePaths): string {
  const file = join(paths.home, 'lock.secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    // none yet
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    linkSync(tmp, file); // fails if another daemon made it first: theirs is the one
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw homeIoError(error, file);
  } finally {
    rmSync(tmp, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}

const SUN_PATH_BYTES = 108;

/**
 * Whether one of this user's processes holds the abstract socket `name` (Linux: its inode in
 * /proc/net/unix, found among the fds of the processes this user may read). Another user's
 * process holding it is a squatter.
 */
function heldByUs(name: string): boolean {
  let inode: string | undefined;
  try {
    const shown = `@${name.slice(1)}`;
    inode = readFileSync('/proc/net/unix', 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .find((fields) => fields[7] === shown)?.[6];
  } catch {
    return true; // cannot tell: take it as ours (the safe answer: no second daemon)
  }
  if (!inode) return true;
  const target = `socket:[${inode}]`;
  const uid = process.getuid?.();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (uid !== undefined && statSync(`/proc/${entry}`).uid !== uid) continue;
      for (const fd of readdirSync(`/proc/${entry}/fd`)) if (readlinkSync(`/proc/${entry}/fd/${fd}`) === target) return true;
    } catch {
      // gone, or not ours to read
    }
  }
  return false;
}

function bind(name: string): Promise<Server | 'taken'> {
  const server: Server = createServer((socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve('taken') : reject(error)));
    server.listen({ path: name, exclusive: true }, () => resolve(server));
  });
}

/**
 * The home's name first, so that every daemon of this user on this home meets the same lock
 * (even one whose home was deleted under it). When someone else holds that name (another user
 * computed it and bound it first), the private name from the home's secret, which only the
 * owner can read, takes its place: squatting keeps no daemon off its home.
 */
async function abstractSocketLock(paths: HomePaths): Promise<HomeLock & { squatted: boolean }> {
  const shared = lockName(paths);
  let server = await bind(shared);
  let squatted = false;
  if (server === 'taken') {
    if (heldByUs(shared)) throw alreadyRunning(paths);
    squatted = true;
    server = await bind(lockName(paths, lockSecret(paths)));
    if (server === 'taken') throw alreadyRunning(paths);
  }
  const held = server;
  held.unref(); // the lock never keeps the daemon alive
  return { squatted, release: () => new Promise<void>((resolve) => held.close(() => resolve())) };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileLock(paths: HomePaths): HomeLock {
  const file = `${paths.home}/mcpd.lock`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: async () => {
          try {
            if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (owner && pidAlive(owner)) throw alreadyRunning(paths);
      unlinkSync(file); // left by a daemon that died
    }
  }
  throw alreadyRunning(paths);
}

/** Takes the home's lock, or fails with MCPD_DAEMON_ALREADY_RUNNING. */
export async function lockHome(paths: HomePaths): Promise<HomeLock> {
  if (process.platform === 'linux') return abstractSocketLock(paths);
  return fileLock(paths);
}
