import { hostNameWarnings } from '../host-names.js';
import type { DaemonStatus } from '../../protocol/types.js';
import { connectDaemon, type CliContext } from '../context.js';
import { idleNote, span, table } from '../format.js';
import { stateColor } from '../color.js';
import { plural } from '../../util/plural.js';

export function renderStatus(status: DaemonStatus): string {
  const lines = [
    `mcpd ${status.version}  pid ${status.pid}  up ${span(status.uptimeMs)}  ${status.ready ? 'ready' : 'starting servers…'}`,
    `config  ${status.configFile ?? '(none)'}`,
    ...(status.configError
      ? [
          `        the file on disk failed to load (${status.configError.time}); the running config stays:`,
          ...status.configError.message.split('\n').map((l) => `          ${l}`),
        ]
      : []),
    `socket  ${status.socket}`,
    ...status.fronts
      .filter((f) => f.name !== 'control' && f.address !== '')
      .map((f) =>
        f.name === 'mcp-http'
          ? `http    ${f.address}/mcp (and /servers/NAME/mcp), ${f.sessions} session(s)`
          : f.name === 'ui'
            ? `ui      ${f.address} (open it with mcpd ui), ${plural(f.sessions, 'page')} connected`
            : `bridge  ${f.address}, ${f.sessions} session(s)`,
      ),
    `tools   ${status.toolCount}`,
    '',
  ];
  const rows = status.servers.map((s) => [
    // A chat's own server (mcpd chat ./weather.py): not in the config, gone when that chat ends.
    s.ephemeral ? `${s.name} (chat)` : s.name,
    s.state,
    s.transport,
    // The revision spoken to it: 2026-07-28, or what its initialize agreed.
    s.protocolVersion ?? '-',
    s.pid === null ? '-' : String(s.pid),
    s.runningSince ? span(Date.now() - Date.parse(s.runningSince)) : '-',
    String(s.restarts),
    s.state === 'running' || s.state === 'idle' ? String(s.toolCount) : '-',
    s.lastError ? s.lastError.message.split('\n')[0]! : '-',
  ]);
  lines.push(
    rows.length === 0
      ? '(no servers configured)'
      : table(['SERVER', 'STATE', 'VIA', 'MCP', 'PID', 'UPTIME', 'RESTARTS', 'TOOLS', 'LAST ERROR'], rows, undefined, { 1: stateColor }),
  );
  const idle = status.servers.filter((s) => s.state === 'idle');
  if (idle.length > 0) {
    lines.push('');
    for (const s of idle) lines.push(`(idle) ${s.name}: no process; ${idleNote(s)}`);
  }
  const brought = status.servers.filter((s) => s.ephemeral);
  if (brought.length > 0) {
    lines.push('');
    for (const s of brought) lines.push(`(chat) ${s.name}: ${s.ephemeral!.script}, brought by a chat; stops when that chat ends`);
  }
  if (status.clients.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['MCP CLIENT', 'VERSION', 'ENDPOINT', 'VIA', 'CONNECTED'],
        status.clients.map((c) => [
          c.name,
          c.version || '-',
          c.endpoint,
          c.front === 'mcp-http' ? 'http' : 'bridge',
          `${span(Date.now() - Date.parse(c.since))} ago`,
        ]),
      ),
    );
  }
  if (status.plugins.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['PLUGIN', 'STATE', 'HOOKS', 'FAILURES', 'LAST ERROR'],
        status.plugins.map((p) => [
          p.name,
          p.state,
          p.hooks.join(',') || '-',
          String(p.failures),
          p.error ?? (p.lastError ? `${p.lastError.hook}: ${p.lastError.message}` : '-'),
        ]),
        undefined,
        { 1: stateColor },
      ),
    );
  }
  return lines.join('\n');
}

export async function statusCommand(ctx: CliContext): Promise<number> {
  const client = await connectDaemon(ctx);
  try {
    const status = await client.request('status', {});
    ctx.out(ctx.args.json ? JSON.stringify(status, null, 2) : renderStatus(status));
    if (!ctx.args.json) {
      // Names a host would make too long for the API (mcpd tools says which).
      const long = hostNameWarnings((await client.request('tools.list', {})).tools).length;
      if (long > 0)
        ctx.err(`warning: ${long === 1 ? '1 tool name' : `${long} tool names`} will not fit a host's prefix (see: mcpd tools).`);
    }
    return 0;
  } finally {
    client.close();
  }
}
