/**
 * The catalogue as clients and Claude see it: the merged tools after the plugins' catalogue
 * hooks. Renamed tools still route to their server's tool: entries keep server and originalName.
 */
import { GuardedEmitter } from '../util/emitter.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import type { ToolEntry } from '../protocol/types.js';
import type { PluginHost } from './host.js';

export class ToolView extends GuardedEmitter<{ refreshed: () => void }> {
  private tools: ToolEntry[] = [];
  private byName = new Map<string, ToolEntry>();
  private pending: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly plugins: PluginHost,
  ) {
    super();
  }

  /** Recomputes the view; refreshes asked for while one runs are folded into one more. */
  refresh(): Promise<void> {
    this.dirty = true;
    const next = this.pending.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const tools = await this.plugins.transformCatalogue(this.catalogue.tools());
      this.tools = tools;
      this.byName = new Map(tools.map((t) => [t.name, t]));
      this.emit('refreshed');
    });
    this.pending = next;
    this.refreshing = true;
    const done = () => {
      if (this.pending === next) this.refreshing = false;
    };
    next.then(done, done);
    return next;
  }

  /** True while a refresh runs: a call then waits for it (settled) rather than paying an await on every call. */
  refreshing = false;

  /** Resolves once every refresh asked for so far is done. */
  settled(): Promise<void> {
    return this.pending;
  }

  list(server?: string): ToolEntry[] {
    return server === undefined ? [...this.tools] : this.tools.filter((t) => t.server === server);
  }

  resolve(name: string): ToolEntry | undefined {
    return this.byName.get(name);
  }
}
