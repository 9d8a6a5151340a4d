/**
 * Servers a chat brings (`mcpd chat ./weather.py`): never written to a config, named after their
 * script, seen by the chat session that brought them, stopped when the client that brought them
 * goes away. The command never comes in a socket message (DESIGN §7): the CLI writes it to a
 * ticket file in MCPD_HOME/ephemeral (a folder only this user can write to) and the message names
 * only the ticket, which is read once and deleted.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from '../config/validate.js';
import { McpdError } from '../errors.js';
import type { ServerStatus } from '../protocol/types.js';
import type { EphemeralPort } from '../ports/ephemeral.js';
import type { Supervisor } from './supervisor.js';

/** What the CLI writes into a ticket (cli/scripts.ts makes it). */
export interface EphemeralTicket {
  name: string;
  script: string;
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
}

const TICKET_NAME = /^[A-Za-z0-9_-]{16,64}$/;
/** As cli/scripts.ts names them: what a tool's namespaced name may hold. */
const SERVER_NAME = /^[A-Za-z0-9_-]{1,40}$/;
/** A ticket is a few hundred bytes; a big file is not one. */
const MAX_TICKET_BYTES = 256 * 1024;

export class EphemeralServers implements EphemeralPort {
  constructor(
    private readonly dir: string,
    private readonly supervisor: Supervisor,
  ) {}

  /** Tickets a client wrote but never redeemed (it died, or the daemon did). */
  clearTickets(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) rmSync(join(this.dir, name), { force: true, recursive: true });
  }

  /** Starts the ticket's server for the chats of control client `client`; resolves with its status once it runs. */
  async attach(ticket: string, client: number): Promise<ServerStatus> {
    const spec = this.redeem(ticket);
    const { name, script, ...entry } = spec;
    if (!SERVER_NAME.test(name)) throw new McpdError('MCPD_USAGE', `"${name}" is not a server name: letters, digits, _ and - only.`);
    const checked = validateConfig({ servers: { [name]: entry } }, spec.cwd);
    if (!checked.ok) {
      const problems = checked.problems.map((p) => `${p.path.replace(/^servers\.[^.]+\.?/, '') || 'entry'}: ${p.message}`).join('; ');
      throw new McpdError('MCPD_USAGE', `The server for ${script} cannot run: ${problems}`);
    }
    const config = { ...checked.config.servers[name]!, ephemeral: { script, client } };
    const server = await this.supervisor.addEphemeral(config);
    return server.status();
  }

  detach(name: string): Promise<void> {
    return this.supervisor.removeEphemeral(name);
  }

  isEphemeral(server: string): boolean {
    return this.supervisor.has(server) && this.supervisor.get(server).config.ephemeral !== undefined;
  }

  /**
   * Whether a chat session sees this server's tools: a configured server always, a chat's own
   * server when the client that brought it watches the session (its `/new` sessions too).
   */
  visibleTo(server: string, watchers: readonly number[]): boolean {
    const origin = this.supervisor.has(server) ? this.supervisor.get(server).config.ephemeral : undefined;
    return origin === undefined || watchers.includes(origin.client);
  }

  /** Reads the ticket once and deletes it: only a file this user wrote in the home names a command. */
  private redeem(ticket: string): EphemeralTicket {
    if (!TICKET_NAME.test(ticket)) throw new McpdError('MCPD_USAGE', `"${ticket}" is not a server ticket.`);
    const file = join(this.dir, `${ticket}.json`);
    let text: string;
    try {
      const stat = lstatSync(file);
      const uid = process.getuid?.();
      if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0 || stat.size > MAX_TICKET_BYTES) {
        throw new McpdError('MCPD_USAGE', `${file} is not a ticket this user wrote (a 0600 file of theirs).`);
      }
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if (error instanceof McpdError) throw error;
      throw new McpdError('MCPD_USAGE', `No server ticket ${ticket} in ${this.dir}: write it first (mcpd chat does).`);
    } finally {
      rmSync(file, { force: true });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new McpdError('MCPD_USAGE', `${file} is not JSON.`);
    }
    const t = parsed as Partial<EphemeralTicket> | null;
    if (
      !t ||
      typeof t.name !== 'string' ||
      typeof t.script !== 'string' ||
      typeof t.command !== 'string' ||
      typeof t.cwd !== 'string' ||
      !Array.isArray(t.args)
    ) {
      throw new McpdError('MCPD_USAGE', `${file} lacks name, script, command, args or cwd.`);
    }
    return t as EphemeralTicket;
  }
}
