/** Servers a chat brings with it (`mcpd chat ./weather.py`), never in a config (supervisor/ephemeral.ts). */
import type { ServerStatus } from '../protocol/types.js';

export interface EphemeralPort {
  /**
   * Starts the server a ticket file in MCPD_HOME/ephemeral names, for the chats of one control
   * client (no other chat, and no MCP client, sees its tools); resolves once it runs, or throws why not.
   */
  attach(ticket: string, client: number): Promise<ServerStatus>;
  /** Stops and forgets it (the client that brought it went away). */
  detach(name: string): Promise<void>;
  /** A server a chat brought: MCP clients (bridge, gateway) do not see it. */
  isEphemeral(server: string): boolean;
}
