/**
 * An eventemitter3 emitter whose listeners are guarded: one that throws is reported and the
 * others still run, so a broken listener can never abort the state change that emitted.
 */
import { EventEmitter } from 'eventemitter3';

export type ListenerErrorHandler = (error: unknown, event: string) => void;

const reportToStderr: ListenerErrorHandler = (error, event) => {
  process.stderr.write(
    `mcpd: a listener of "${event}" threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
};

export class GuardedEmitter<Events extends EventEmitter.ValidEventTypes> extends EventEmitter<Events> {
  constructor(private readonly onListenerError: ListenerErrorHandler = reportToStderr) {
    super();
  }

  override emit<T extends EventEmitter.EventNames<Events>>(event: T, ...args: EventEmitter.EventArgs<Events, T>): boolean {
    const listeners = this.listeners(event) as ((...a: unknown[]) => unknown)[];
    if (listeners.length === 0) return false;
    // `once` listeners go before any runs, as in eventemitter3's own emit.
    for (const listener of listeners) this.removeListener(event, listener as never, undefined, true);
    for (const listener of listeners) {
      try {
        listener.apply(this, args as unknown[]);
      } catch (error) {
        try {
          this.onListenerError(error, String(event));
        } catch {
          // the reporter itself failed: nothing more to do
        }
      }
    }
    return true;
  }
}
