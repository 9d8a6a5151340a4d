import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { McpdError } from './errors.js';

/** Where one daemon keeps its socket, pid file, logs and state. */
export interface HomePaths {
  home: string;
  socket: string;
  pidFile: string;
  logDir: string;
  daemonLog: string;
  /** Process groups the daemon started, so a later daemon can reap them after a crash. */
  childrenFile: string;
}

// Linux caps a Unix socket path at 107 bytes, macOS at 103.
const MAX_SOCKET_PATH = 103;

export function resolveHome(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag ?? env['MCPD_HOME'] ?? join(homedir(), '.mcpd');
  return resolve(chosen);
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    socket: join(home, 'mcpd.sock'),
    pidFile: join(home, 'mcpd.pid'),
    logDir: join(home, 'logs'),
    daemonLog: join(home, 'logs', 'daemon.log'),
    childrenFile: join(home, 'children.json'),
  };
}

/** Creates MCPD_HOME (0700) and its logs folder; the folder's mode is the socket's authentication. */
export function ensureHome(paths: HomePaths): void {
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
    chmodSync(paths.home, 0o700);
    mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
    if (!statSync(paths.home).isDirectory()) throw new Error('not a directory');
  } catch (cause) {
    throw new McpdError('MCPD_HOME_UNUSABLE', `Cannot use ${paths.home} as MCPD_HOME: ${(cause as Error).message}`, { cause });
  }
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new McpdError(
      'MCPD_HOME_UNUSABLE',
      `The socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes; choose a shorter MCPD_HOME (--home).`,
    );
  }
}
