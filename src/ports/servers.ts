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
  /** The running servers, with what each said it can do and of its own use. */
  running(): { name: string; capabilities: ServerCapabilities; instructions?: string }[];
}
