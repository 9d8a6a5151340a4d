import { chmodSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { McpdError } from '../errors.js';

/** Where one daemon keeps its socket, pid file, logs and state. */
export interface HomePaths {
  home: string;
  socket: string;
  /** MCP over WebSockets, for `mcpd bridge`. */
  mcpSocket: string;
  pidFile: string;
  logDir: string;
  daemonLog: string;
  /** Process groups the daemon started, so a later daemon can reap them after a crash. */
  childrenFile: string;
  /** Tickets for servers a chat brings (supervisor/ephemeral.ts): written by the CLI, read once by the daemon. */
  ephemeralDir: string;
  /** What each lazy server listed when it last ran (supervisor/memory.ts), one file per server. */
  catalogueDir: string;
}

function checkHomeSafe(home: string): void {
  // A symlink someone else owns could be pointed elsewhere at any time.
  const link = lstatSync(home);
  const uid = process.getuid?.();
  if (link.isSymbolicLink() && uid !== undefined && link.uid !== uid) {
    throw new McpdError(
      'MCPD_HOME_UNSAFE',
      `${home} is a symlink that belongs to another user (uid ${link.uid}, you are ${uid}), so mcpd will not trust where it points. Choose another MCPD_HOME (--home).`,
    );
  }
  const stat = statSync(home);
  if (!stat.isDirectory()) throw new McpdError('MCPD_HOME_UNUSABLE', `${home} is not a directory; choose another MCPD_HOME (--home).`);
  if (uid !== undefined && stat.uid !== uid) {
    throw new McpdError(
      'MCPD_HOME_UNSAFE',
      `${home} belongs to another user (uid ${stat.uid}, you are ${uid}), so mcpd will not trust it. Choose another MCPD_HOME (--home), or remove it.`,
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new McpdError(
      'MCPD_HOME_UNSAFE',
      `${home} is writable by others (mode ${mode}), so mcpd will not trust what is in it. Fix it with: chmod 700 ${home}  (and check that nothing in it was planted).`,
    );
  }
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
    mcpSocket: join(home, 'mcp.sock'),
    pidFile: join(home, 'mcpd.pid'),
    logDir: join(home, 'logs'),
    daemonLog: join(home, 'logs', 'daemon.log'),
    childrenFile: join(home, 'children.json'),
    ephemeralDir: join(home, 'ephemeral'),
    catalogueDir: join(home, 'catalogues'),
  };
}

/**
 * The checks a client makes before it talks to a home's socket (the daemon makes them too): a
 * home another user owns or can write to could hold anybody's socket, and its answers could be
 * anyone's. A home that does not exist yet has no socket to trust.
 */
export function assertHomeTrusted(paths: HomePaths): void {
  try {
    lstatSync(paths.home);
  } catch {
    return;
  }
  checkHomeSafe(paths.home);
}

/**
 * Creates MCPD_HOME (0700) and its logs folder; the folder's mode is the socket's authentication.
 * A home that already exists must be the user's own and writable by no one else: anyone who can
 * write there could plant a socket or a children.json. It is refused, never silently fixed.
 */
export function ensureHome(paths: HomePaths): void {
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new McpdError('MCPD_HOME_UNUSABLE', `Cannot use ${paths.home} as MCPD_HOME: ${(cause as Error).message}`, { cause });
  }
  checkHomeSafe(paths.home);
  try {
    // Readable by others is merely loose: tighten it.
    if ((statSync(paths.home).mode & 0o077) !== 0) chmodSync(paths.home, 0o700);
    mkdirSync(paths.logDir, { recursive: true, mode: 0o700 });
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
