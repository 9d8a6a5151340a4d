/**
 * The background daemon's spawn, kept apart from the rest of `mcpd start` so that the CLI can
 * issue it before it loads anything else: the daemon then boots while the CLI loads the code
 * that waits for it (on a small machine the two boots would otherwise follow one another).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, realpathSync } from 'node:fs';
import type { HomePaths } from '../home/paths.js';

export interface SpawnedDaemon {
  readonly child: ChildProcess;
  /** Its exit code once it exited (watched from the spawn on: an early exit is not missed). */
  readonly exitCode: number | null | undefined;
}

/**
 * The CLI's own entry file (the bundle, or dist/cli/main.js), for what must run it again: the
 * background daemon, a host's bridge entry, the login service. Symlinks (npm's bin) resolved.
 */
export function cliEntry(): string {
  return realpathSync(process.argv[1]!);
}

/** `mcpd serve` in the background, logging to the home's daemon log, with this shell's environment. */
export function spawnDaemon(
  paths: HomePaths,
  options: { config?: string | undefined; configOptional?: boolean | undefined },
): SpawnedDaemon {
  const args = [
    cliEntry(),
    'serve',
    '--home',
    paths.home,
    '--log-file',
    paths.daemonLog,
    ...(options.config ? ['--config', options.config] : []),
    ...(options.configOptional ? ['--config-optional'] : []),
  ];
  const log = openSync(paths.daemonLog, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd: process.cwd(), env: process.env });
  } finally {
    closeSync(log);
  }
  const spawned: { child: ChildProcess; exitCode: number | null | undefined } = { child, exitCode: undefined };
  child.once('exit', (code) => {
    spawned.exitCode = code;
  });
  child.unref();
  return spawned;
}
