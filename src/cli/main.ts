#!/usr/bin/env node
/**
 * The `mcpd` CLI. Commands that talk to the daemon load only the control client; the daemon
 * (and the MCP SDK) is imported only by `serve`, the config loader only by `config check`.
 */
import { McpdError } from '../errors.js';
import { parseCli, USAGE } from './args.js';
import { createContext, EXIT_ALREADY_RUNNING, type CliContext } from './context.js';

type Command = (ctx: CliContext) => Promise<number>;

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
  init: async () => (await import('./commands/init.js')).initCommand,
};

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
  if (args.help || name === undefined || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined && !args.help ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) throw new McpdError('MCPD_USAGE', `Unknown command "${name}". See: mcpd --help`);
  const command = await load();
  return command(createContext(args));
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const json = process.argv.includes('--json');
    if (json && error instanceof McpdError) process.stderr.write(`${JSON.stringify({ error: error.toJSON() })}\n`);
    else if (error instanceof McpdError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`mcpd: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = exitCodeFor(error);
  },
);
