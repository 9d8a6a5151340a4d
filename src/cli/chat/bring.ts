/**
 * `mcpd chat ./weather.py`: the servers a chat brings, started by the daemon for this chat only.
 * Each command goes in a 0600 ticket file in MCPD_HOME/ephemeral, never in a socket message
 * (DESIGN §7); the daemon stops the servers when this client's connection closes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlClient } from '../../client/control-client.js';
import { McpdError } from '../../errors.js';
import type { ServerStatus } from '../../protocol/types.js';
import type { CliContext } from '../context.js';
import type { ScriptServer } from '../scripts.js';

export interface BroughtServer {
  server: ServerStatus;
  /** The server's own tool names, as the tutorial prints them. */
  tools: string[];
}

/** Starts each script's server in turn; the first that does not come up ends the chat before it starts. */
export async function bringServers(ctx: CliContext, client: ControlClient, scripts: readonly ScriptServer[]): Promise<BroughtServer[]> {
  const dir = ctx.paths.ephemeralDir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const brought: BroughtServer[] = [];
  for (const script of scripts) {
    const ticket = randomBytes(16).toString('hex');
    const file = join(dir, `${ticket}.json`);
    const { name, file: path, command, args, cwd } = script;
    writeFileSync(file, JSON.stringify({ name, script: path, command, args, cwd }), { mode: 0o600, flag: 'wx' });
    try {
      const { server, tools } = await client.request('servers.attach', { ticket });
      brought.push({ server, tools: tools.map((t) => t.originalName) });
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new McpdError('MCPD_SERVER_INIT_FAILED', `${path} did not start as an MCP server (${[command, ...args].join(' ')}): ${why}`);
    } finally {
      rmSync(file, { force: true });
    }
  }
  return brought;
}

/** The tutorial's line: `Connected to server with tools: ['get_alerts', 'get_forecast']`, one per server. */
export function connectedLine({ server, tools }: BroughtServer): string {
  return `Connected to ${server.name} with tools: [${tools.map((t) => JSON.stringify(t)).join(', ')}]`;
}
