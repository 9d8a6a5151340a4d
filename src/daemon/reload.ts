/**
 * Re-reading the config (mcpd reload, a signal, or the file changing on disk) and applying only
 * what changed. An invalid config is refused with its errors (MCPD_CONFIG_INVALID) and the
 * running one stays (and shows in `status`). Reloads run one at a time; one asked for during
 * another runs after it.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { diffServers, type ConfigDiff } from '../config/diff.js';
import type { ResolvedConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logs/store.js';
import type { DaemonStatus, ReloadResult } from '../protocol/types.js';

/** How long the file must be quiet before a change on disk is read (editors write in steps). */
const SETTLE_MS = 250;

export interface ReloadDeps {
  /** Reads the config again: from `file` when one is known, else searched as at the start. */
  load(file: string | undefined): Promise<ResolvedConfig>;
  current(): ResolvedConfig;
  /** Makes `next` the running config and applies `diff`; true when the plugin list changed. */
  apply(next: ResolvedConfig, diff: ConfigDiff): Promise<boolean>;
  /** Throws MCPD_CLOSED once the daemon is stopping. */
  assertOpen(): void;
  /** Tells clients and plugins of a reload that was applied. */
  announce(result: ReloadResult): void;
  log: Logger;
}

export class Reloader {
  private running: Promise<ReloadResult> | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The config as of the last requested reload (or the start): what `mcpd reload` reports against. */
  private reported: ResolvedConfig;
  /** The last reload that failed to load, until one loads. */
  error: DaemonStatus['configError'] = null;

  /** The gateway's listener as the daemon started it: a change to it waits for a restart. */
  private readonly bootedGateway: string;

  constructor(private readonly deps: ReloadDeps) {
    this.reported = deps.current();
    this.bootedGateway = JSON.stringify(this.reported.gateway.http ?? null);
  }

  reload(trigger: ReloadResult['trigger'] = 'request'): Promise<ReloadResult> {
    try {
      this.deps.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    // A request covers a watcher reload still waiting for the file to settle.
    if (trigger !== 'watcher') clearTimeout(this.timer);
    const previous = this.running ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.run(trigger));
    this.running = next;
    void next
      .finally(() => {
        if (this.running === next) this.running = undefined;
      })
      .catch(() => undefined);
    return next;
  }

  /** Resolves once the reload under way (if any) has finished, however it ended. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async run(trigger: ReloadResult['trigger']): Promise<ReloadResult> {
    this.deps.assertOpen();
    const current = this.deps.current();
    let next: ResolvedConfig;
    try {
      next = await this.deps.load(current.file);
    } catch (error) {
      this.error = { file: current.file ?? null, message: errorMessage(error), time: new Date().toISOString() };
      throw error;
    }
    this.deps.assertOpen();
    this.error = null;
    // Against what the daemon started with: a second reload still needs the restart the first did.
    const needsRestart = JSON.stringify(next.gateway.http ?? null) !== this.bootedGateway ? ['gateway.http'] : [];
    if (needsRestart.length > 0 && JSON.stringify(next.gateway.http ?? null) !== JSON.stringify(current.gateway.http ?? null)) {
      this.deps.log.warn('config: gateway.http changed; it takes effect when the daemon restarts (mcpd stop, then mcpd start)');
    }
    const diff = diffServers(current, next);
    const pluginsChanged = await this.deps.apply(next, diff);
    // A request reports every change since the last request, the watcher's included.
    const reported = trigger === 'request' ? diffServers(this.reported, next) : diff;
    if (trigger === 'request') this.reported = next;
    const result: ReloadResult = { file: next.file ?? null, ...reported, pluginsChanged, needsRestart, warnings: next.warnings, trigger };
    this.deps.log.info(
      `config reloaded (${trigger}): ${diff.added.length} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged.length} unchanged`,
    );
    this.deps.announce(result);
    return result;
  }

  /** Reloads when the config file changes on disk. */
  watch(file: string): void {
    try {
      // Watch the folder: editors that save by rename would end a watch on the file itself.
      this.watcher = watch(dirname(file), (_event, name) => {
        if (name !== basename(file)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          if (this.closed) return;
          this.deps.log.info(`${file} changed on disk; reloading`);
          this.reload('watcher').catch((error: unknown) =>
            this.deps.log.error(`reload refused, the running config stays: ${errorMessage(error)}`),
          );
        }, SETTLE_MS);
      });
      this.watcher.on('error', (error) => this.deps.log.warn(`config watch stopped: ${error.message}`));
    } catch (error) {
      this.deps.log.warn(`cannot watch ${file}: ${errorMessage(error)}`);
    }
  }

  /** No more reloads from the watcher. */
  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearTimeout(this.timer);
  }
}
