/** `mcpd start`: the daemon in the background, then a one-screen summary once it is ready. */
import { readFileSync, statfsSync } from 'node:fs';
import { ControlClient } from '../../client/control-client.js';
import { McpdError, isMcpdError } from '../../errors.js';
import type { DaemonStatus } from '../../protocol/types.js';
import type { EventName } from '../../protocol/control.js';
import { ensureHome } from '../../home/paths.js';
import { connectDaemon, EXIT_ALREADY_RUNNING, type CliContext } from '../context.js';
import { spawnDaemon } from '../daemon-spawn.js';
import { renderStatus } from './status.js';
import { resolve } from 'node:path';
import { locateConfig } from '../../config/locate.js';

const READY_TIMEOUT_MS = 90_000;
/** How often to look while the socket does not answer yet, or when the daemon cannot tell us. */
const POLL_MS = 25;
/** How often to look anyway while the daemon tells us its progress. */
const EVENTS_LOOK_MS = 1_000;
/** After our daemon exited because another holds the home, how long that one has to answer. */
const GONE_AFTER_EXIT_MS = 1_000;

async function tryConnect(socket: string): Promise<ControlClient | undefined> {
  try {
    return await ControlClient.connect({ socketPath: socket, timeoutMs: 2_000 });
  } catch {
    return undefined;
  }
}

/** Less free than this, and a daemon cannot write what it must (its pid file, its state). */
const FULL_BELOW_BYTES = 64 * 1024;

function freeBytes(folder: string): number | undefined {
  try {
    const stat = statfsSync(folder);
    return stat.bavail * stat.bsize;
  } catch {
    return undefined;
  }
}

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Makes sure a daemon runs for this home: the one already there, or one started in the
 * background (with the config found as `mcpd start` finds it). Resolves with its status once
 * it is ready; `started` says whether this call started it.
 */
export async function ensureDaemon(
  ctx: CliContext,
  options: { configOptional?: boolean } = {},
): Promise<{ status: DaemonStatus; started: boolean }> {
  ensureHome(ctx.paths);
  const running = ctx.spawned ? undefined : await tryConnect(ctx.paths.socket);
  if (running) {
    try {
      return { status: await running.request('status', {}), started: false };
    } finally {
      running.close();
    }
  }
  const spawned = ctx.spawned ?? spawnDaemon(ctx.paths, { config: ctx.args.config, configOptional: options.configOptional });
  const { child } = spawned;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitedAt: number | undefined;
  // On a terminal, a line that says how far the servers are (many servers take a while).
  const progress = process.stderr.isTTY ? (text: string) => process.stderr.write(`\r\u001b[2K${text}`) : undefined;
  let shown = false;
  let client: Awaited<ReturnType<typeof tryConnect>>;
  // Told by the daemon (daemon:ready, and server:state for the progress line) rather than asked
  // again and again: on a small machine every status asked for is CPU the servers' start-up lacks.
  let told: 'events' | 'poll' | undefined;
  let wake: (() => void) | undefined;
  /** The status daemon:ready carried: no need to ask for it again. */
  let readyStatus: DaemonStatus | undefined;
  const woken = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  child.once('exit', () => wake?.());
  while (Date.now() < deadline) {
    const exitCode = spawned.exitCode;
    if (exitCode !== undefined) exitedAt ??= Date.now();
    const failed = () => {
      // A full disk takes the log with it: say what the log cannot.
      const free = freeBytes(ctx.paths.home);
      if (free !== undefined && free < FULL_BELOW_BYTES) {
        return new McpdError(
          'MCPD_HOME_FULL',
          `The daemon could not start: the disk that holds ${ctx.paths.home} is full (${free} bytes free). Free some space, then run mcpd start again.`,
        );
      }
      return new McpdError(
        'MCPD_DAEMON_START_FAILED',
        `The daemon exited (code ${exitCode}) before it was ready. Its log (${ctx.paths.daemonLog}):\n${logTail(ctx.paths.daemonLog)}`,
      );
    };
    if (exitCode !== undefined && exitCode !== EXIT_ALREADY_RUNNING) throw failed();
    // One connection, asked again and again (a new one per look costs the daemon a handshake).
    client ??= await tryConnect(ctx.paths.socket);
    // Another daemon holds the home (another `mcpd start` won the race): wait for it, as long as
    // it answers. One that does not (stuck, or its home deleted under it) is said within a second.
    if (!client && exitedAt !== undefined && Date.now() - exitedAt > GONE_AFTER_EXIT_MS) throw failed();
    if (client) {
      try {
        if (!told) {
          const events: EventName[] = progress ? ['daemon:ready', 'server:state'] : ['daemon:ready'];
          client.on('daemon:ready', (status) => {
            readyStatus = status;
            wake?.();
          });
          client.on('server:state', () => wake?.());
          // A daemon of an older mcpd (it holds the home) has no daemon:ready: asked then, as before.
          told = await client.subscribe(events).then(
            () => 'events' as const,
            (error: unknown) => {
              if (isMcpdError(error, 'MCPD_CONTROL_PROTOCOL')) return 'poll' as const;
              throw error;
            },
          );
        }
        const status = readyStatus ?? (await client.request('status', {}));
        if (status.ready) {
          if (shown) progress?.('');
          client.close();
          return { status, started: true };
        }
        const enabled = status.servers.filter((s) => s.state !== 'disabled');
        // An idle server (lazy, from its remembered catalogue) is as ready as a running one.
        const running = enabled.filter((s) => s.state === 'running' || s.state === 'idle').length;
        if (progress && enabled.length > 1) {
          progress(`starting servers: ${running} of ${enabled.length} ready`);
          shown = true;
        }
      } catch {
        // stopping, or not answering yet: ask again, on a new connection
        client.close();
        client = undefined;
        told = undefined;
      }
    }
    // Until the socket answers, often (it is part of every `mcpd start`); then on the daemon's
    // word, with a look now and then in case a word was lost.
    await woken(told === 'events' ? EVENTS_LOOK_MS : POLL_MS);
  }
  client?.close();
  throw new McpdError(
    'MCPD_DAEMON_START_FAILED',
    `The daemon was not ready within ${READY_TIMEOUT_MS / 1000} s. See its log: ${ctx.paths.daemonLog}`,
  );
}

/**
 * Connects to the daemon, starting it first when none runs (as `mcpd bridge` does), unless
 * --no-start. The daemon it starts takes this shell's environment (ANTHROPIC_API_KEY with it).
 */
export async function connectOrStart(ctx: CliContext, options: { configOptional?: boolean } = {}): Promise<ControlClient> {
  try {
    return await connectDaemon(ctx);
  } catch (error) {
    if (ctx.args.noStart || !(error instanceof McpdError) || error.code !== 'MCPD_DAEMON_NOT_RUNNING') throw error;
  }
  const { status, started } = await ensureDaemon(ctx, options);
  if (started) ctx.err(`mcpd started (pid ${status.pid}; log: ${ctx.paths.daemonLog}; mcpd stop stops it)`);
  return connectDaemon(ctx);
}

export async function startCommand(ctx: CliContext): Promise<number> {
  const { status, started } = await ensureDaemon(ctx);
  // A daemon already runs: on this folder's config, or say which runs and what to do.
  const here = started ? undefined : locateConfig({ file: ctx.args.config });
  if (here && status.configFile && resolve(here.file) !== resolve(status.configFile)) {
    ctx.err(
      [
        `mcpd is already running (pid ${status.pid}) with ${status.configFile},`,
        `not with the config found here: ${here.file}.`,
        'To switch: mcpd stop && mcpd start. To run both: mcpd start --home DIR (a second daemon with a home of its own).',
      ].join('\n'),
    );
    return 1;
  }
  if (ctx.args.json) {
    if (!started) ctx.out(`mcpd is already running (pid ${status.pid}).`);
    ctx.out(JSON.stringify(status, null, 2));
  } else if (started) {
    ctx.out(
      `mcpd started (pid ${status.pid}); log: ${ctx.paths.daemonLog}\n\n${renderStatus(status)}\n\nNext: mcpd tools · mcpd call TOOL '{...}' · mcpd logs -f · mcpd stop`,
    );
  } else {
    ctx.out(`mcpd is already running (pid ${status.pid}).\n${renderStatus(status)}`);
  }
  return 0;
}
