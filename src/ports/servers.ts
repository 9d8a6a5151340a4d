/** The configured servers, as fronts may act on them (implemented by the supervisor). */
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { ServerStatus } from '../protocol/types.js';

export type ServerAction = 'start' | 'stop' | 'restart';

export interface ServersPort {
  /** Acts on one server; resolves with its state once every action asked for settled. */
  act(name: string, action: ServerAction): Promise<ServerStatus>;
  /** Throws MCPD_SERVER_UNKNOWN for a name not in the running config. */
  assertKnown(name: string): void;
  /** What the running config says for a server, secrets masked (config/mask.ts). */
  maskedConfig(name: string): Record<string, unknown>;
  /** The servers that answer: running, or idle (what each said when it last ran), with what each can do and of its own use. */
  available(): { name: string; capabilities: ServerCapabilities; instructions?: string }[];
}
