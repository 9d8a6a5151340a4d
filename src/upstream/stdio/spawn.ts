/** A local server's process: spawned in a group of its own, recorded for reaping, its stderr logged. */
import type { StdioServerConfig } from '../../config/types.js';
import type { UpstreamDeps } from '../types.js';
import { resolveCommand } from './command.js';
import { childEnvironment } from './env.js';
import { pipeLines } from './lines.js';
import { ServerProcess } from './process.js';

export async function spawnServer(config: StdioServerConfig, deps: UpstreamDeps): Promise<ServerProcess> {
  // The marks let this daemon, or a later one, find all it started (marks.ts).
  const marks = deps.children.marksForSpawn();
  const env: Record<string, string> = { ...childEnvironment(config.env), ...marks.variables };
  const command = resolveCommand(config.name, config.command, config.cwd, env['PATH']);
  const child = await ServerProcess.spawn({ server: config.name, command, args: config.args, cwd: config.cwd, env, mark: marks.spawn });
  try {
    await deps.children.add(child.pid, config.name);
  } catch (error) {
    // Not recorded, not kept: a later daemon could not be told it runs.
    child.killNow();
    throw error;
  }
  pipeLines(child.stderr, (line) => deps.logs.append(config.name, 'stderr', 'info', line));
  deps.logs.append(config.name, 'daemon', 'debug', `spawned ${config.command} ${config.args.join(' ')} (pid ${child.pid})`);
  return child;
}
