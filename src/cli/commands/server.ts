/**
 * `mcpd server …`: act on a running server (start, stop, restart), or change the config file's
 * servers (add, remove, enable, disable; comments and formatting kept) and reload the daemon
 * when it runs on that file, and list the config's servers with their states.
 */
import type { ControlClient } from '../../client/control-client.js';
import { McpdError } from '../../errors.js';
import type { ServerStatus } from '../../protocol/types.js';
import { connectDaemon, type CliContext } from '../context.js';
import { stateColor } from '../color.js';
import { serverLine, table } from '../format.js';
import { asText } from '../../util/text.js';
import { accessSync, constants, existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { onPath } from '../scripts.js';
import { closestWord } from '../../util/suggest.js';

const ACTIONS = ['start', 'stop', 'restart'] as const;
const EDITS = ['add', 'remove', 'enable', 'disable', 'list'] as const;
const USAGE = `Usage: mcpd server start|stop|restart NAME
       mcpd server add NAME [-e K=V]... [--cwd D] [--force] -- COMMAND [ARGS...]
       mcpd server add NAME --url URL [--transport http|sse] [--header 'K: V']... [--force]
       mcpd server remove|enable|disable NAME
       mcpd server list`;

/** The daemon when it runs (undefined otherwise, without failing). */
async function daemonIfRunning(ctx: CliContext): Promise<ControlClient | undefined> {
  try {
    return await connectDaemon(ctx, 2_000);
  } catch (error) {
    if (error instanceof McpdError && error.code === 'MCPD_DAEMON_NOT_RUNNING') return undefined;
    throw error;
  }
}

export async function serverCommand(ctx: CliContext): Promise<number> {
  const [, action, name] = ctx.args.positionals;
  if (EDITS.includes(action as (typeof EDITS)[number])) return editCommand(ctx, action as (typeof EDITS)[number], name);
  if (!ACTIONS.includes(action as (typeof ACTIONS)[number])) {
    const guess = action === undefined ? undefined : closestWord(action, [...ACTIONS, ...EDITS]);
    const said = action === undefined ? '' : `Unknown: mcpd server ${action}.${guess ? ` Did you mean "mcpd server ${guess}"?` : ''}\n`;
    throw new McpdError('MCPD_USAGE', `${said}${USAGE}`);
  }
  if (!name) throw new McpdError('MCPD_USAGE', USAGE);
  const client = await connectDaemon(ctx);
  try {
    const { server } = await client.request(`servers.${action as (typeof ACTIONS)[number]}`, { name });
    ctx.out(ctx.args.json ? JSON.stringify(server, null, 2) : serverLine(server));
    const wanted = action === 'stop' ? ['stopped'] : ['running'];
    return wanted.includes(server.state) ? 0 : 1;
  } finally {
    client.close();
  }
}

function keyValues(pairs: string[], separator: '=' | ':', flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const index = pair.indexOf(separator);
    const key = index === -1 ? '' : pair.slice(0, index).trim();
    if (!key) throw new McpdError('MCPD_USAGE', `${flag} takes ${separator === '=' ? 'KEY=VALUE' : "'Name: value'"}, not "${pair}".`);
    out[key] = pair.slice(index + 1).trim();
  }
  return out;
}

/**
 * A path typed in this folder, absolute: the config lives elsewhere (~/.config/mcpd), and the
 * daemon starts the server from the config's folder. Only words that name something here now.
 */
function fromHere(word: string): string {
  if (isAbsolute(word) || word.startsWith('-')) return word;
  const full = resolve(word);
  return existsSync(full) ? full : word;
}

/** Says before anything is written that the command cannot run (a typo, a script without its x bit). */
function assertRunnable(command: string): void {
  if (command.includes('/')) {
    if (!existsSync(command)) throw new McpdError('MCPD_SERVER_COMMAND_NOT_FOUND', `Not added: ${command} does not exist.`);
    try {
      accessSync(command, constants.X_OK);
    } catch {
      throw new McpdError(
        'MCPD_SERVER_SPAWN_FAILED',
        `Not added: ${command} is not executable (chmod +x it, or name its interpreter: -- python3 ${command}).`,
      );
    }
    return;
  }
  if (!onPath([command])) {
    throw new McpdError(
      'MCPD_SERVER_COMMAND_NOT_FOUND',
      `Not added: "${command}" is not on PATH (${process.env['PATH'] ?? ''}). Install it, or give its full path.`,
    );
  }
}

/** The entry `mcpd server add` writes, from Claude Code's `claude mcp add` shapes. */
function entryFromArgs(ctx: CliContext): Record<string, unknown> {
  const { url, rest, env, headers, cwd, transport } = ctx.args;
  if (url !== undefined) {
    if (rest.length > 0) throw new McpdError('MCPD_USAGE', `A server has a --url or a command, not both. ${USAGE}`);
    if (transport !== undefined && transport !== 'http' && transport !== 'sse')
      throw new McpdError('MCPD_USAGE', '--transport is http or sse.');
    return {
      url,
      ...(transport ? { type: transport } : {}),
      ...(headers.length > 0 ? { headers: keyValues(headers, ':', '--header') } : {}),
    };
  }
  if (rest.length === 0) throw new McpdError('MCPD_USAGE', `Give the server's command after --, or its --url. ${USAGE}`);
  if (headers.length > 0 || transport !== undefined)
    throw new McpdError('MCPD_USAGE', '--header and --transport are for remote servers (--url).');
  // Paths are this folder's (or --cwd's, where the server then runs): stored absolute.
  const folder = cwd === undefined ? undefined : resolve(cwd);
  if (folder !== undefined && !existsSync(folder)) throw new McpdError('MCPD_USAGE', `--cwd ${cwd}: ${folder} does not exist.`);
  const [typed, ...typedArgs] = rest as [string, ...string[]];
  const command = typed.includes('/') ? resolve(folder ?? '.', typed) : typed;
  assertRunnable(command);
  const args = folder === undefined ? typedArgs.map(fromHere) : typedArgs;
  return {
    command,
    ...(args.length > 0 ? { args } : {}),
    ...(env.length > 0 ? { env: keyValues(env, '=', '--env') } : {}),
    ...(folder ? { cwd: folder } : {}),
  };
}

async function editCommand(ctx: CliContext, action: (typeof EDITS)[number], name: string | undefined): Promise<number> {
  const { locateConfig, userConfigFile } = await import('../../config/locate.js');
  const { writeDocument } = await import('../../config/edit.js');
  const { planServerEdit } = await import('../../config/server-edit.js');
  const located = locateConfig({ file: ctx.args.config });
  if (action === 'list') return listServers(ctx, located?.file);
  if (!name) throw new McpdError('MCPD_USAGE', USAGE);
  // No config anywhere: the first server makes the user's.
  const file = located?.file ?? userConfigFile();
  const entry = action === 'add' ? () => entryFromArgs(ctx) : undefined;
  const { doc, text, existed, said } = planServerEdit(file, { action, name, entry, replace: ctx.args.force });
  writeDocument(file, text);
  const code = await reloadIfRunning(ctx, file, name, action, said);
  if (code === 'did-not-start') {
    // A server that cannot start is not worth keeping: the file goes back as it was.
    writeDocument(file, doc.text);
    await reloadIfRunning(ctx, file, name, 'remove', '');
    ctx.err(`${existed ? 'Not replaced' : 'Not added'}: ${file} is as it was.`);
    return 1;
  }
  return code;
}

/** Reloads the daemon that runs on `file`; after an add, 'did-not-start' when the new server did not come up. */
async function reloadIfRunning(
  ctx: CliContext,
  file: string,
  name: string,
  action: string,
  said: string,
): Promise<number | 'did-not-start'> {
  const say = (text: string) => {
    if (text) ctx.out(text);
  };
  const client = await daemonIfRunning(ctx);
  if (!client) {
    say(said);
    ctx.out('mcpd is not running; it takes the change when it starts (mcpd start).');
    return 0;
  }
  try {
    const status = await client.request('status', {});
    if (status.configFile !== file) {
      say(said);
      ctx.out(`The running daemon uses ${status.configFile ?? 'another config'}, not this file: it is not reloaded.`);
      return 0;
    }
    await client.request('config.reload', {}, { timeoutMs: 120_000 });
    const server = action === 'remove' ? undefined : (await client.request('status', {})).servers.find((s) => s.name === name);
    const up = !server || ['running', 'idle', 'disabled', 'needs-auth'].includes(server.state);
    if (!up && action === 'add') {
      ctx.err(`Server "${name}" did not start: ${server.lastError?.message ?? server.state}`);
      return 'did-not-start';
    }
    say(said);
    if (server) ctx.out(serverLine(server));
    return up ? 0 : 1;
  } finally {
    client.close();
  }
}

async function listServers(ctx: CliContext, file: string | undefined): Promise<number> {
  if (!file)
    throw new McpdError(
      'MCPD_CONFIG_NOT_FOUND',
      'No config found here or in your user config; add a server with: mcpd server add NAME -- COMMAND, or run mcpd init',
    );
  const { readDocument } = await import('../../config/edit.js');
  const doc = readDocument(file);
  const client = await daemonIfRunning(ctx);
  let states = new Map<string, ServerStatus>();
  let runningFile: string | null = null;
  if (client) {
    try {
      const status = await client.request('status', {});
      runningFile = status.configFile;
      if (status.configFile === file) states = new Map(status.servers.map((s) => [s.name, s]));
    } finally {
      client.close();
    }
  }
  const rows = Object.entries(doc.servers).map(([name, entry]) => {
    const remote = typeof entry['url'] === 'string';
    const what = remote ? String(entry['url']) : [entry['command'], ...((entry['args'] as string[] | undefined) ?? [])].join(' ');
    const state =
      states.get(name)?.state ?? (entry['disabled'] === true ? 'disabled' : client && runningFile === file ? '-' : 'not running');
    return [name, remote ? asText(entry['type'], 'http') : 'stdio', state, what.length > 70 ? `${what.slice(0, 69)}…` : what];
  });
  if (ctx.args.json) ctx.out(JSON.stringify({ file, servers: doc.servers }, null, 2));
  else
    ctx.out(
      `${file}\n${rows.length === 0 ? '(no servers)' : table(['SERVER', 'TYPE', 'STATE', 'COMMAND / URL'], rows, undefined, { 2: stateColor })}`,
    );
  return 0;
}
