/** What every command gets: its arguments, where the daemon lives, and how to reach it. */
import { ControlClient } from '../client/control-client.js';
import { McpdError } from '../errors.js';
import { assertHomeTrusted, homePaths, resolveHome, type HomePaths } from '../home/paths.js';
import type { CliArgs } from './args.js';
import type { SpawnedDaemon } from './daemon-spawn.js';
import { forStream } from './terminal.js';

export { EXIT_ALREADY_RUNNING } from './exit-codes.js';
export { cliEntry } from './daemon-spawn.js';

export interface CliContext {
  args: CliArgs;
  paths: HomePaths;
  out: (text: string) => void;
  err: (text: string) => void;
  /** The daemon `mcpd start` spawned before it loaded the command (main.ts), if it did. */
  spawned?: SpawnedDaemon;
}

export function createContext(args: CliArgs): CliContext {
  return {
    args,
    paths: homePaths(resolveHome(args.home)),
    // On a terminal, what servers and configs wrote cannot act on it (terminal.ts).
    out: (text) => process.stdout.write(`${forStream(process.stdout, text)}\n`),
    err: (text) => process.stderr.write(`${forStream(process.stderr, text)}\n`),
  };
}

/** Connects to the daemon, or fails with the one line that says how to start it. */
export async function connectDaemon(ctx: CliContext, timeoutMs = 5_000): Promise<ControlClient> {
  // Another user's home (or a symlink of theirs) could hold a socket that answers anything.
  assertHomeTrusted(ctx.paths);
  try {
    return await ControlClient.connect({ socketPath: ctx.paths.socket, timeoutMs });
  } catch (error) {
    if (error instanceof McpdError && error.code === 'MCPD_DAEMON_NOT_RUNNING') {
      const home = ctx.args.home ? ` --home ${ctx.args.home}` : '';
      throw new McpdError(
        'MCPD_DAEMON_NOT_RUNNING',
        `mcpd is not running (${ctx.paths.home}). Start it with: mcpd start${home}  (or mcpd serve${home} in the foreground)`,
      );
    }
    throw error;
  }
}
