/** The MCP clients connected through the bridge or the gateway (status and events tell of them). */
import type { McpClientStatus } from '../protocol/types.js';

export interface ClientsPort {
  /** A client initialized. */
  connected(client: McpClientStatus): void;
  /** It went away. */
  disconnected(client: McpClientStatus): void;
}
