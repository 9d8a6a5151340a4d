/**
 * MCP clients' resource subscriptions, counted per server and URI across clients: the server is
 * asked to subscribe for the first and to unsubscribe after the last. A server with a
 * subscription is held from an idle stop (it would miss the updates).
 */
import type { CallOptions, ForwardedRequest } from '../protocol/calls.js';

type Forward = (server: string, request: ForwardedRequest, options: CallOptions) => Promise<unknown>;
/** Holds the server from an idle stop until the returned function is called. */
type Hold = (server: string) => () => void;

export class Subscriptions {
  private readonly counts = new Map<string, number>();
  private readonly releases = new Map<string, () => void>();

  constructor(
    private readonly forward: Forward,
    private readonly hold: Hold,
  ) {}

  async subscribe(server: string, uri: string, options: CallOptions): Promise<void> {
    const key = `${server}\0${uri}`;
    const count = this.counts.get(key) ?? 0;
    if (count === 0) {
      await this.forward(server, { method: 'resources/subscribe', params: { uri } }, options);
      this.releases.get(key)?.();
      this.releases.set(key, this.hold(server));
    }
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
    this.releases.get(key)?.();
    this.releases.delete(key);
    await this.forward(server, { method: 'resources/unsubscribe', params: { uri } }, options);
  }
}
