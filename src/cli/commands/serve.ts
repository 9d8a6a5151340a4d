/** `mcpd serve`: the daemon in the foreground. Logs to stderr; SIGINT/SIGTERM stop it cleanly. */
import type { Daemon } from '../../daemon/daemon.js';
import type { LogEntry } from '../../protocol/types.js';
import type { CliContext } from '../context.js';
import { RotatingFile } from '../../logs/rotating-file.js';
import { renderLog } from './logs.js';
import { plural } from '../color.js';
import { idleNote } from '../format.js';

export function readyBanner(daemon: Daemon): string {
  const status = daemon.status();
  const home = daemon.paths.home;
  const lines = [`mcpd ${status.version} is ready (pid ${status.pid})`];
  for (const s of status.servers) {
    const detail =
      s.state === 'running'
        ? plural(s.toolCount, 'tool')
        : s.state === 'idle'
          ? `${plural(s.toolCount, 'tool')}, ${idleNote(s)}`
          : s.lastError
            ? s.lastError.message.split('\n')[0]
            : '';
    lines.push(`  ${s.name.padEnd(14)} ${s.state.padEnd(9)} ${detail}`);
  }
  lines.push(`  ${plural(status.toolCount, 'tool')} in the catalogue`, `  socket ${status.socket}`, '');
  const homeFlag = process.env['MCPD_HOME'] === home || home.endsWith('/.mcpd') ? '' : ` --home ${home}`;
  lines.push('Try, from another terminal:');
  lines.push(`  npx mcpd status${homeFlag}`);
  lines.push(`  npx mcpd tools${homeFlag}`);
  // An example call of a tool that exists: an echo if there is one, else the first tool.
  const tools = daemon.published.list();
  const example = tools.find((t) => t.originalName === 'echo') ?? tools[0];
  if (example) {
    const properties = Object.keys((example.inputSchema['properties'] as Record<string, unknown> | undefined) ?? {});
    const args =
      example.originalName === 'echo' && properties.includes('message')
        ? '{"message":"hi"}'
        : JSON.stringify(Object.fromEntries(properties.map((k) => [k, '…'])));
    lines.push(`  npx mcpd call ${example.name} '${args}'${homeFlag}`);
  }
  lines.push(`  npx mcpd logs -f${homeFlag}`);
  if (process.env['ANTHROPIC_API_KEY'] || process.env['ANTHROPIC_AUTH_TOKEN']) lines.push(`  npx mcpd chat${homeFlag}`);
  else lines.push('  (chat: set ANTHROPIC_API_KEY before starting the daemon to use npx mcpd chat)');
  lines.push('Ctrl-C stops the daemon and every server.');
  return lines.join('\n');
}

const EXIT_GRACE_MS = 2_000;

export async function serveCommand(ctx: CliContext): Promise<number> {
  const { Daemon: DaemonClass } = await import('../../daemon/daemon.js');
  const verbose = process.env['MCPD_DEBUG'] === '1';
  const logFile = ctx.args.logFile ? new RotatingFile(ctx.args.logFile) : undefined;
  const write = (text: string) => (logFile ? logFile.write(text) : process.stderr.write(text));
  const echo = (entry: LogEntry) => {
    if (entry.level !== 'debug' || verbose) write(`${renderLog(entry)}\n`);
  };
  // Installed before the daemon boots: a plugin's stray error during start must not kill it either.
  let current: Daemon | undefined;
  process.on('uncaughtException', (error) => {
    // A plugin's stray error (from its own timer, say) is the plugin's failure, not the daemon's.
    const plugin = current?.plugins.attribute(error);
    if (current && plugin) {
      current.log.error(`plugin ${plugin} threw outside a hook: ${error.stack ?? error.message}`);
      return;
    }
    // A crash must not orphan the servers: signal their groups before dying (the next start
    // reaps whatever is left).
    write(`mcpd crashed: ${error.stack ?? String(error)}\n`);
    current?.children.killAllNow('SIGTERM');
    process.exit(70);
  });
  process.on('unhandledRejection', (reason) => {
    const text = `unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`;
    if (current) current.log.error(text);
    else write(`${text}\n`);
  });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write('Stopping now (second signal): killing every server.\n');
      current?.children.killAllNow('SIGKILL');
      process.exit(130);
    }
    void current?.stop(signal);
  };
  const daemon = await DaemonClass.start({
    home: ctx.paths.home,
    configFile: ctx.args.config,
    configOptional: ctx.args.configOptional,
    echo,
    onCreated: (created) => {
      current = created;
      // From here a signal stops the daemon cleanly, even while it is still starting.
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.on('SIGHUP', () => {
        if (created.closed) return;
        created
          .reload('signal')
          .catch((error: unknown) => created.log.error(`reload refused, the running config stays: ${(error as Error).message}`));
      });
    },
  });
  if (!daemon.closed) {
    if (!daemon.status().servers.length) daemon.log.warn('the config has no servers');
    ctx.out(readyBanner(daemon));
  }
  await daemon.stopped;
  // Everything is closed; should anything still hold the event loop, it must not keep a
  // stopped daemon alive (a process no CLI can reach).
  setTimeout(() => {
    write(
      `mcpd: something still held the event loop after the daemon stopped (${process.getActiveResourcesInfo().join(', ')}); exiting anyway.\n`,
    );
    process.exit(0);
  }, EXIT_GRACE_MS).unref();
  return 0;
}
