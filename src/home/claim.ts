/**
 * The control socket's file, claimed by the daemon that holds the home's lock (lock.ts): a socket
 * file left there is a dead daemon's, unless something still answers on it (a daemon of an older
 * build, which took no lock). Only "no such file" and "connection refused" mean nobody is there;
 * a slow answer is someone.
 */
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { McpdError } from '../errors.js';
import type { HomePaths } from './paths.js';

const PROBE_TIMEOUT_MS = 2_000;

export async function claimSocket(paths: HomePaths): Promise<void> {
  const answer = await new Promise<'nobody' | 'somebody'>((resolve) => {
    const socket = connect(paths.socket);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('somebody');
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('somebody');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'nobody' : 'somebody');
    });
  });
  if (answer === 'somebody') {
    throw new McpdError(
      'MCPD_DAEMON_ALREADY_RUNNING',
      `Something already answers on ${paths.socket}: another daemon runs for ${paths.home}. Stop it first (mcpd stop), or give this one another home (--home DIR).`,
    );
  }
  await rm(paths.socket, { force: true });
}
