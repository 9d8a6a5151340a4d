/** The daemon's events, as fronts hear them: guarded, so one bad listener cannot break the rest. */
import type { DaemonEvents, EventsPort } from '../ports/events.js';
import { GuardedEmitter, type ListenerErrorHandler } from '../util/emitter.js';

export class EventBus implements EventsPort {
  private readonly emitter: GuardedEmitter<DaemonEvents>;

  constructor(onListenerError: ListenerErrorHandler) {
    this.emitter = new GuardedEmitter<DaemonEvents>(onListenerError);
  }

  emit<E extends keyof DaemonEvents>(event: E, params: Parameters<DaemonEvents[E]>[0]): void {
    (this.emitter.emit as (event: E, params: unknown) => boolean)(event, params);
  }

  on<E extends keyof DaemonEvents>(event: E, listener: DaemonEvents[E]): () => void {
    this.emitter.on(event, listener as never);
    return () => void this.emitter.off(event, listener as never);
  }
}
