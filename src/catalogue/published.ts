/**
 * The catalogue as clients and Claude see it: the merged tools after the plugins' catalogue
 * hooks (`transform`), with the resources and prompts beside them. Renamed tools still route to
 * their server's tool: entries keep server and originalName.
 */
import type { CataloguePort } from '../ports/catalogue.js';
import type { PromptEntry, ResourceEntry, ToolEntry } from '../protocol/types.js';
import { GuardedEmitter } from '../util/emitter.js';
import type { Catalogue } from './catalogue.js';

export class PublishedCatalogue extends GuardedEmitter<{ refreshed: () => void }> implements CataloguePort {
  private published: ToolEntry[] = [];
  private byName = new Map<string, ToolEntry>();
  private pending: Promise<void> = Promise.resolve();
  private dirty = false;
  /** True while a refresh runs: a call then waits for it (settled) rather than paying an await on every call. */
  refreshing = false;

  constructor(
    private readonly catalogue: Catalogue,
    private readonly transform: (tools: ToolEntry[]) => Promise<ToolEntry[]>,
  ) {
    super();
  }

  /** Recomputes the view; refreshes asked for while one runs are folded into one more. */
  refresh(): Promise<void> {
    this.dirty = true;
    const next = this.pending.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      const tools = await this.transform(this.catalogue.tools());
      this.published = tools;
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

  /** Resolves once every refresh asked for so far is done. */
  settled(): Promise<void> {
    return this.pending;
  }

  /** The tools now (a refresh under way not waited for). */
  list(server?: string): ToolEntry[] {
    return server === undefined ? [...this.published] : this.published.filter((t) => t.server === server);
  }

  resolve(name: string): ToolEntry | undefined {
    return this.byName.get(name);
  }

  async tools(server?: string): Promise<ToolEntry[]> {
    await this.settled();
    return this.list(server);
  }

  resources(server?: string): ResourceEntry[] {
    return this.catalogue.resources(server);
  }

  prompts(server?: string): PromptEntry[] {
    return this.catalogue.prompts(server);
  }

  resourceOwners(uri: string): string[] {
    return this.catalogue.resolveResource(uri).map((r) => r.server);
  }
}
