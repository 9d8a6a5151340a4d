/**
 * One daemon per MCPD_HOME, enforced by an exclusive lock rather than by probing the socket
 * (a daemon whose event loop is busy answers slowly, not never).
 *
 * On Linux the lock is a listening socket in the abstract namespace, named after the user, the
 * home and a secret kept in it: binding it is atomic, and the kernel releases it when the process
 * dies, however it dies, so there is never a stale lock. Elsewhere it is a file created with O_EXCL holding the
 * owner's pid, taken over when that pid is gone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { McpdError } from '../errors.js';
import { homeIoError } from '../util/files.js';
import type { HomePaths } from './paths.js';

export interface HomeLock {
  release(): Promise<void>;
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
 * The lock's name holds a secret kept in the home (0600 in the 0700 folder): only the home's
 * owner can compute it, so nobody else can bind it first and keep every daemon off the home.
 * It fills the whole sun_path (108 bytes): Node 20 pads a shorter abstract name with zeros to
 * that length and Node 22 does not, so only a full-length name is the same address for both, and
 * two daemons of different Node versions still exclude each other.
 */
function lockName(paths: HomePaths): string {
  const id = createHash('sha256')
    .update(`${process.getuid?.() ?? ''}\0${realpathSync(paths.home)}\0${lockSecret(paths)}`)
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

async function abstractSocketLock(paths: HomePaths): Promise<HomeLock> {
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? alreadyRunning(paths) : error));
    server.listen({ path: lockName(paths), exclusive: true }, resolve);
  });
  server.unref(); // the lock never keeps the daemon alive
  return { release: () => new Promise<void>((resolve) => server.close(() => resolve())) };
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
