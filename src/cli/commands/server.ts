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
  if (!ACTIONS.includes(action as (typeof ACTIONS)[number]) || !name) throw new McpdError('MCPD_USAGE', USAGE);
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
  const [command, ...args] = rest;
  return {
    command,
    ...(args.length > 0 ? { args } : {}),
    ...(env.length > 0 ? { env: keyValues(env, '=', '--env') } : {}),
    ...(cwd ? { cwd } : {}),
  };
}

async function editCommand(ctx: CliContext, action: (typeof EDITS)[number], name: string | undefined): Promise<number> {
  const { locateConfig, userConfigFile } = await import('../../config/locate.js');
  const { checkEdited, edited, readDocument, writeDocument } = await import('../../config/edit.js');
  const located = locateConfig({ file: ctx.args.config });
  if (action === 'list') return listServers(ctx, located?.file);
  if (!name) throw new McpdError('MCPD_USAGE', USAGE);
  // No config anywhere: the first server makes the user's.
  const file = located?.file ?? userConfigFile();
  const doc = readDocument(file);
  const exists = Object.hasOwn(doc.servers, name);
  let text: string;
  let said: string;
  if (action === 'add') {
    const entry = entryFromArgs(ctx);
    if (exists && !ctx.args.force)
      throw new McpdError('MCPD_USAGE', `A server named "${name}" is in ${file} already; --force replaces it.`);
    text = edited(doc, [name], entry);
    said = `${exists ? 'Replaced' : 'Added'} server "${name}" in ${file}.`;
  } else {
    if (!exists)
      throw new McpdError(
        'MCPD_SERVER_UNKNOWN',
        `No server named "${name}" in ${file} (servers: ${Object.keys(doc.servers).join(', ') || 'none'}).`,
      );
    if (action === 'remove') {
      text = edited(doc, [name], undefined);
      said = `Removed server "${name}" from ${file}.`;
    } else {
      text = edited(doc, [name, 'disabled'], action === 'disable' ? true : undefined);
      said = `${action === 'disable' ? 'Disabled' : 'Enabled'} server "${name}" in ${file}.`;
    }
  }
  checkEdited(doc, text, name);
  writeDocument(file, text);
  ctx.out(said);
  return reloadIfRunning(ctx, file, name, action);
}

async function reloadIfRunning(ctx: CliContext, file: string, name: string, action: string): Promise<number> {
  const client = await daemonIfRunning(ctx);
  if (!client) {
    ctx.out('mcpd is not running; it takes the change when it starts (mcpd start).');
    return 0;
  }
  try {
    const status = await client.request('status', {});
    if (status.configFile !== file) {
      ctx.out(`The running daemon uses ${status.configFile ?? 'another config'}, not this file: it is not reloaded.`);
      return 0;
    }
    await client.request('config.reload', {}, { timeoutMs: 120_000 });
    if (action === 'remove') return 0;
    const server = (await client.request('status', {})).servers.find((s) => s.name === name);
    if (server) ctx.out(serverLine(server));
    return server && server.state !== 'running' && server.state !== 'disabled' ? 1 : 0;
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
