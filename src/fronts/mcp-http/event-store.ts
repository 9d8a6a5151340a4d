/**
 * Resumption for Streamable HTTP (`Last-Event-ID`): the messages sent on a session's SSE
 * streams, kept in a bounded ring per session so that a client that reconnects gets what it
 * missed, and memory stays bounded however long a session lives.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

interface StoredEvent {
  id: string;
  streamId: string;
  message: JSONRPCMessage;
}

export class BoundedEventStore {
  private readonly events: StoredEvent[] = [];
  private next = 0;

  constructor(private readonly capacity = 1_000) {}

  /** Keeps a message sent on a stream; its event id. */
  store(streamId: string, message: JSONRPCMessage): string {
    const id = `${streamId}_${(this.next += 1)}`;
    this.events.push({ id, streamId, message });
    if (this.events.length > this.capacity) this.events.shift();
    return id;
  }

  /** The stream an event was sent on, while the event is still kept. */
  streamOf(eventId: string): string | undefined {
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  /** The events of the same stream sent after this one. */
  eventsAfter(eventId: string): StoredEvent[] {
    const index = this.events.findIndex((e) => e.id === eventId);
    if (index === -1) return [];
    const { streamId } = this.events[index]!;
    return this.events.slice(index + 1).filter((e) => e.streamId === streamId);
  }
}
