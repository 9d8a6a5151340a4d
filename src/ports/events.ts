/** The daemon's events, as fronts hear them (chat events go to attached clients instead). */
import type { Events } from '../protocol/control.js';

export type DaemonEvents = { [E in Exclude<keyof Events, 'chat:event' | 'call:progress'>]: (params: Events[E]) => void };

export interface EventsPort {
  /** Subscribes to a daemon event; returns the unsubscribe function. */
  on<E extends keyof DaemonEvents>(event: E, listener: DaemonEvents[E]): () => void;
}
