#!/usr/bin/env node
/**
 * The `mcpd` CLI. Commands that talk to the daemon load only the control client; the daemon
 * (and the MCP SDK) is imported only by `serve`, the config loader only by `config check`.
 */
import { existsSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { McpdError } from '../errors.js';
import { ensureHome, homePaths, resolveHome } from '../home/paths.js';
import { COMMAND_HELP, parseCli, USAGE, type CliArgs } from './args.js';
import type { CliContext } from './context.js';
import { spawnDaemon, type SpawnedDaemon } from './daemon-spawn.js';
import { EXIT_ALREADY_RUNNING } from './exit-codes.js';
import { closestWord } from '../util/suggest.js';
import { forStream } from './terminal.js';

type Command = (ctx: CliContext) => Promise<number>;

// Node 22.1+ keeps compiled code on disk: the daemon's start and every one-shot command then
// skip most of compiling the bundle (Node 20 has no such cache and goes on without it).
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  start: async () => (await import('./commands/start.js')).startCommand,
  stop: async () => (await import('./commands/stop.js')).stopCommand,
  status: async () => (await import('./commands/status.js')).statusCommand,
  tools: async () => (await import('./commands/tools.js')).toolsCommand,
  call: async () => (await import('./commands/call.js')).callCommand,
  server: async () => (await import('./commands/server.js')).serverCommand,
  logs: async () => (await import('./commands/logs.js')).logsCommand,
  reload: async () => (await import('./commands/reload.js')).reloadCommand,
  config: async () => (await import('./commands/config-check.js')).configCheckCommand,
  chat: async () => (await import('./commands/chat.js')).chatCommand,
  bridge: async () => (await import('./commands/bridge.js')).bridgeCommand,
  auth: async () => (await import('./commands/auth.js')).authCommand,
  ui: async () => (await import('./commands/ui.js')).uiCommand,
  init: async () => (await import('./commands/init.js')).initCommand,
  connect: async () => (await import('./commands/connect.js')).connectCommand,
  disconnect: async () => (await import('./commands/connect.js')).connectCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  service: async () => (await import('./commands/service.js')).serviceCommand,
  resources: async () => (await import('./commands/catalogue.js')).resourcesCommand,
  resource: async () => (await import('./commands/catalogue.js')).resourceCommand,
  prompts: async () => (await import('./commands/catalogue.js')).promptsCommand,
  prompt: async () => (await import('./commands/catalogue.js')).promptCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
  __complete: async () => (await import('./commands/completion.js')).completeCommand,
};

/** How many words each command takes after its name, at most (more is a usage error, never ignored). */
const MAX_ARGUMENTS: Record<string, number> = {
  serve: 0,
  start: 0,
  stop: 0,
  status: 0,
  tools: 1,
  call: 2,
  server: 2,
  logs: 1,
  reload: 0,
  config: 2,
  chat: 100,
  bridge: 0,
  auth: 1,
  ui: 0,
  init: 0,
  connect: 1,
  disconnect: 1,
  import: 1,
  service: 1,
  resources: 1,
  resource: 2,
  prompts: 1,
  prompt: 3,
  completion: 1,
  __complete: 100,
};

function spawnEarly(args: CliArgs): SpawnedDaemon | undefined {
  const paths = homePaths(resolveHome(args.home));
  if (existsSync(paths.socket)) return undefined; // running, or a stale socket: start.ts asks it first
  ensureHome(paths);
  return spawnDaemon(paths, { config: args.config });
}

function exitCodeFor(error: unknown): number {
  if (error instanceof McpdError) {
    if (error.code === 'MCPD_USAGE') return 2;
    if (error.code === 'MCPD_DAEMON_NOT_RUNNING') return 3;
    // Only `serve` ends this way; `mcpd start` reads it as "another start won the race".
    if (error.code === 'MCPD_DAEMON_ALREADY_RUNNING') return EXIT_ALREADY_RUNNING;
  }
  return 1;
}

async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv);
  if (args.version) {
    const { VERSION } = await import('../version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const name = args.positionals[0];
  // mcpd help CMD, mcpd CMD --help: that command's help.
  const about = name === 'help' ? args.positionals[1] : args.help ? name : undefined;
  if (about !== undefined && COMMAND_HELP[about]) {
    process.stdout.write(`${COMMAND_HELP[about]}\n`);
    return 0;
  }
  if (args.help || name === undefined || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined && !args.help ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const guess = closestWord(
      name,
      Object.keys(COMMANDS).filter((c) => !c.startsWith('__')),
    );
    throw new McpdError('MCPD_USAGE', `Unknown command "${name}".${guess ? ` Did you mean "mcpd ${guess}"?` : ''} See: mcpd --help`);
  }
  const extra = args.positionals.slice(1 + (MAX_ARGUMENTS[name] ?? 0));
  if (extra.length > 0 && name === 'server' && args.positionals[1] === 'add') {
    // `mcpd server add weather weather.py`: the command goes after --, as with claude mcp add.
    const runner = /\.py$/.test(extra[0]!) ? 'python3 ' : /\.[mc]?js$/.test(extra[0]!) ? 'node ' : '';
    throw new McpdError(
      'MCPD_USAGE',
      `The server's command goes after --: mcpd server add ${args.positionals[2]} -- ${runner}${extra.join(' ')}${args.rest.length > 0 ? ` ${args.rest.join(' ')}` : ''}`,
    );
  }
  if (extra.length > 0) {
    throw new McpdError('MCPD_USAGE', `mcpd ${name} does not take "${extra.join(' ')}". See: mcpd --help`);
  }
  // `mcpd start` with no daemon's socket in sight: the daemon is spawned first, so that it boots
  // while this process loads the code that waits for it (start.ts takes it from there).
  const spawned = name === 'start' ? spawnEarly(args) : undefined;
  // Loaded only now: `--version` and `--help` need no socket client.
  const [command, { createContext }] = await Promise.all([load(), import('./context.js')]);
  const ctx = createContext(args);
  if (spawned) ctx.spawned = spawned;
  return command(ctx);
}

// A reader that went away (mcpd tools | head -3) ends the output, quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const json = process.argv.includes('--json');
    if (json && error instanceof McpdError) process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
    else if (error instanceof McpdError) process.stderr.write(`${forStream(process.stderr, error.message)}\n`);
    else process.stderr.write(`mcpd: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = exitCodeFor(error);
    // A connection a failed command left open must not keep the process (it would hang).
    setTimeout(() => process.exit(), 500).unref();
  },
);
