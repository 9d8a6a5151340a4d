/** The MCP clients connected through the bridge or the gateway: shown in status, told as events. */
import type { Logger } from '../logs/store.js';
import type { ClientsPort } from '../ports/clients.js';
import type { McpClientStatus } from '../protocol/types.js';
import type { EventBus } from './events.js';

export class ClientRegistry implements ClientsPort {
  private readonly clients = new Set<McpClientStatus>();

  constructor(
    private readonly events: EventBus,
    private readonly log: Logger,
  ) {}

  list(): McpClientStatus[] {
    return [...this.clients];
  }

  connected(client: McpClientStatus): void {
    this.clients.add(client);
    this.log.info(`MCP client ${client.name} ${client.version} connected to ${client.endpoint} (${client.front})`);
    this.events.emit('client:connected', client);
  }

  disconnected(client: McpClientStatus): void {
    this.clients.delete(client);
    this.log.info(`MCP client ${client.name} ${client.version} left ${client.endpoint} (${client.front})`);
    this.events.emit('client:disconnected', client);
  }
}
