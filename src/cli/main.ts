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
  connect: async () => (await import('./commands/connect.js')).connectCommand,
  disconnect: async () => (await import('./commands/connect.js')).connectCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  service: async () => (await import('./commands/service.js')).serviceCommand,
};

/** How many words each command takes after its name, at most (more is a usage error, never ignored). */
const MAX_ARGUMENTS: Record<string, number> = { serve: 0, start: 0, stop: 0, status: 0, tools: 1, call: 2, server: 2, logs: 1, reload: 0, config: 2, chat: 0, bridge: 0, auth: 1, init: 0, connect: 1, disconnect: 1, import: 1, service: 1 };

/** The command a typo most likely meant (at most two edits away). */
export function closestWord(word: string, candidates: readonly string[]): string | undefined {
  // Edits, with two swapped letters counting as one (optimal string alignment).
  const distance = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i += 1) {
      for (let j = 1; j <= b.length; j += 1) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
    return d[a.length]![b.length]!;
  };
  const ranked = candidates.map((c) => [c, distance(word.toLowerCase(), c.toLowerCase())] as const).sort((x, y) => x[1] - y[1]);
  return ranked[0] && ranked[0][1] <= 2 ? ranked[0][0] : undefined;
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
  if (args.help || name === undefined || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined && !args.help ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const guess = closestWord(name, Object.keys(COMMANDS));
    throw new McpdError('MCPD_USAGE', `Unknown command "${name}".${guess ? ` Did you mean "mcpd ${guess}"?` : ''} See: mcpd --help`);
  }
  const extra = args.positionals.slice(1 + (MAX_ARGUMENTS[name] ?? 0));
  if (extra.length > 0) {
    throw new McpdError('MCPD_USAGE', `mcpd ${name} does not take "${extra.join(' ')}". See: mcpd --help`);
  }
  const command = await load();
  return command(createContext(args));
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
    else if (error instanceof McpdError) process.stderr.write(`${error.message}\n`);
    else process.stderr.write(`mcpd: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = exitCodeFor(error);
    // A connection a failed command left open must not keep the process (it would hang).
    setTimeout(() => process.exit(), 500).unref();
  },
);
