/**
 * MCP clients' resource subscriptions, counted per server and URI across clients: the server is
 * asked to subscribe for the first and to unsubscribe after the last.
 */
import type { CallOptions, ForwardedRequest } from '../protocol/calls.js';

type Forward = (server: string, request: ForwardedRequest, options: CallOptions) => Promise<unknown>;

export class Subscriptions {
  private readonly counts = new Map<string, number>();

  constructor(private readonly forward: Forward) {}

  async subscribe(server: string, uri: string, options: CallOptions): Promise<void> {
    const key = `${server}\0${uri}`;
    const count = this.counts.get(key) ?? 0;
    if (count === 0) await this.forward(server, { method: 'resources/subscribe', params: { uri } }, options);
    this.counts.set(key, count + 1);
  }

  async unsubscribe(server: string, uri: string, options: CallOptions): Promise<void> {
    const key = `${server}\0${uri}`;
    const count = this.counts.get(key) ?? 0;
    if (count === 0) return;
    if (count > 1) {
      this.counts.set(key, count - 1);
      return;
    }
    this.counts.delete(key);
    await this.forward(server, { method: 'resources/unsubscribe', params: { uri } }, options);
  }
}
