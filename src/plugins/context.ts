/**
 * What a plugin's setup gets (PluginContext): its name, a logger, the live config, a data folder,
 * and daemon events, whose listeners are guarded (one that throws is logged, never fatal).
 */
import type { EventEmitter } from 'eventemitter3';
import type { ResolvedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logs/store.js';
import type { DaemonEvent, PluginContext } from './api.js';

export interface ContextDeps {
  name: string;
  log: Logger;
  dataDir: string;
  config: () => ResolvedConfig;
  /** Where the runner emits daemon events. */
  bus: EventEmitter<{ event: (event: DaemonEvent) => void }>;
  /** Collects the plugin's unsubscribers, run when it is disposed. */
  unsubscribers: (() => void)[];
}

export function pluginContext({ name, log, dataDir, config, bus, unsubscribers }: ContextDeps): PluginContext {
  return {
    name,
    log,
    // Live: after a reload that keeps the plugin list, plugins see the new config.
    get config() {
      return config();
    },
    dataDir,
    events: {
      on: (type, listener) => {
        const wrapped = (event: DaemonEvent) => {
          if (type !== '*' && event.type !== type) return;
          try {
            const out = (listener as (e: DaemonEvent) => unknown)(event);
            if (out instanceof Promise) out.catch((error: unknown) => log.error(`event listener failed: ${errorMessage(error)}`));
          } catch (error) {
            log.error(`event listener failed: ${errorMessage(error)}`);
          }
        };
        bus.on('event', wrapped);
        const off = () => void bus.off('event', wrapped);
        unsubscribers.push(off);
        return off;
      },
    },
  };
}
