/**
 * The merged catalogue: every running server's tools, resources and prompts under namespaced
 * names, with the routing tables (name → server and original name). Routing never splits strings.
 */
import { GuardedEmitter } from '../util/emitter.js';
import type { Prompt, Resource, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolFilter } from '../config/types.js';
import type { CatalogueChangedEvent, PromptEntry, ResourceEntry, ToolEntry } from '../protocol/types.js';
import { isAllowed } from '../util/glob.js';
import { MAX_NAME_LENGTH, assignNames } from './naming.js';

type Kind = 'tools' | 'resources' | 'prompts';

interface ServerPart {
  filter: ToolFilter;
  tools: Tool[];
  resources: Resource[];
  prompts: Prompt[];
}

const NO_FILTER: ToolFilter = { allow: [], deny: [] };

export class Catalogue extends GuardedEmitter<{ changed: (event: CatalogueChangedEvent) => void }> {
  private readonly parts = new Map<string, ServerPart>();
  private toolTable = new Map<string, ToolEntry>();
  private promptTable = new Map<string, PromptEntry>();
  private resourceList: ResourceEntry[] = [];
  private maxNameLength: number = MAX_NAME_LENGTH;
  /** A tool filter was set since the tool table was last built. */
  private filtered = false;

  private part(server: string): ServerPart {
    let part = this.parts.get(server);
    if (!part) {
      part = { filter: NO_FILTER, tools: [], resources: [], prompts: [] };
      this.parts.set(server, part);
    }
    return part;
  }

  setFilter(server: string, filter: ToolFilter): void {
    this.part(server).filter = filter;
    // Applied at the next rebuild, whatever kind it is for (as a server's next lists come).
    this.filtered = true;
  }

  /** The longest name to give (`gateway.maxNameLength`); a change renames what no longer fits. */
  setMaxNameLength(max: number): void {
    if (max === this.maxNameLength) return;
    const before = { tools: this.toolTable, prompts: this.promptTable };
    this.maxNameLength = max;
    this.rebuild();
    const after = { tools: this.toolTable, prompts: this.promptTable };
    for (const kind of ['tools', 'prompts'] as const) {
      const names = (table: Map<string, { server: string }>, server: string) =>
        [...table].filter(([, e]) => e.server === server).map(([name]) => name);
      for (const server of this.parts.keys()) {
        const was = new Set(names(before[kind], server));
        const now = names(after[kind], server);
        const added = now.filter((n) => !was.has(n));
        const removed = [...was].filter((n) => !now.includes(n));
        if (added.length > 0 || removed.length > 0) this.emit('changed', { server, kind, added, removed, total: after[kind].size });
      }
    }
  }

  update(server: string, kind: Kind, items: Tool[] | Resource[] | Prompt[]): void {
    const part = this.part(server);
    const before = this.keys(kind);
    (part[kind] as unknown[]) = items;
    this.rebuild(kind);
    // A new tool list is announced even with the same names: descriptions or schemas may differ.
    this.announce(server, kind, before, kind === 'tools');
  }

  removeServer(server: string): void {
    if (!this.parts.has(server)) return;
    const before = { tools: this.keys('tools'), resources: this.keys('resources'), prompts: this.keys('prompts') };
    this.parts.delete(server);
    this.rebuild();
    for (const kind of ['tools', 'resources', 'prompts'] as const) this.announce(server, kind, before[kind], false);
  }

  tools(server?: string): ToolEntry[] {
    const all = [...this.toolTable.values()];
    return server === undefined ? all : all.filter((t) => t.server === server);
  }

  resolveTool(name: string): ToolEntry | undefined {
    return this.toolTable.get(name);
  }

  prompts(server?: string): PromptEntry[] {
    const all = [...this.promptTable.values()];
    return server === undefined ? all : all.filter((p) => p.server === server);
  }

  resolvePrompt(name: string): PromptEntry | undefined {
    return this.promptTable.get(name);
  }

  resources(server?: string): ResourceEntry[] {
    return server === undefined ? [...this.resourceList] : this.resourceList.filter((r) => r.server === server);
  }

  /** Servers that list a resource of this URI (usually one). */
  resolveResource(uri: string): ResourceEntry[] {
    return this.resourceList.filter((r) => r.uri === uri);
  }

  private keys(kind: Kind): Set<string> {
    if (kind === 'tools') return new Set(this.toolTable.keys());
    if (kind === 'prompts') return new Set(this.promptTable.keys());
    return new Set(this.resourceList.map((r) => `${r.server}\u0000${r.uri}`));
  }

  private announce(server: string, kind: Kind, before: Set<string>, always: boolean): void {
    const after = this.keys(kind);
    const shown = (key: string) => (kind === 'resources' ? key.split('\u0000')[1]! : key);
    const added = [...after].filter((k) => !before.has(k)).map(shown);
    const removed = [...before].filter((k) => !after.has(k)).map(shown);
    if (added.length === 0 && removed.length === 0 && !always) return;
    this.emit('changed', { server, kind, added, removed, total: after.size });
  }

  /** The merged tables, of one kind or all: a server's new list of one kind leaves the others as they are. */
  private rebuild(only?: Kind): void {
    const servers = [...this.parts.keys()].sort();
    if (only === undefined || only === 'tools' || this.filtered) {
      this.filtered = false;
      const tools: { server: string; tool: Tool }[] = [];
      for (const server of servers) {
        const part = this.parts.get(server)!;
        for (const tool of part.tools) if (isAllowed(tool.name, part.filter)) tools.push({ server, tool });
      }
      const toolNames = assignNames(
        tools.map((t) => ({ server: t.server, name: t.tool.name })),
        this.maxNameLength,
      );
      this.toolTable = new Map(tools.map((t, i) => [toolNames[i]!, toToolEntry(toolNames[i]!, t.server, t.tool)]));
    }
    if (only === undefined || only === 'prompts') {
      const prompts: { server: string; prompt: Prompt }[] = [];
      for (const server of servers) for (const prompt of this.parts.get(server)!.prompts) prompts.push({ server, prompt });
      const promptNames = assignNames(
        prompts.map((p) => ({ server: p.server, name: p.prompt.name })),
        this.maxNameLength,
      );
      this.promptTable = new Map(prompts.map((p, i) => [promptNames[i]!, toPromptEntry(promptNames[i]!, p.server, p.prompt)]));
    }
    if (only === undefined || only === 'resources') {
      const resources: ResourceEntry[] = [];
      for (const server of servers)
        for (const resource of this.parts.get(server)!.resources) resources.push(toResourceEntry(server, resource));
      this.resourceList = resources;
    }
  }
}

function toToolEntry(name: string, server: string, tool: Tool): ToolEntry {
  return {
    name,
    server,
    originalName: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    ...(tool.description === undefined ? {} : { description: tool.description }),
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema === undefined ? {} : { outputSchema: tool.outputSchema }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
    ...(tool.icons === undefined ? {} : { icons: tool.icons }),
    ...(tool._meta === undefined ? {} : { _meta: tool._meta }),
  };
}

function toPromptEntry(name: string, server: string, prompt: Prompt): PromptEntry {
  return {
    name,
    server,
    originalName: prompt.name,
    ...(prompt.title === undefined ? {} : { title: prompt.title }),
    ...(prompt.description === undefined ? {} : { description: prompt.description }),
    ...(prompt.arguments === undefined ? {} : { arguments: prompt.arguments }),
  };
}

function toResourceEntry(server: string, resource: Resource): ResourceEntry {
  return {
    uri: resource.uri,
    server,
    name: resource.name,
    ...(resource.title === undefined ? {} : { title: resource.title }),
    ...(resource.description === undefined ? {} : { description: resource.description }),
    ...(resource.mimeType === undefined ? {} : { mimeType: resource.mimeType }),
    ...(resource.size === undefined ? {} : { size: resource.size }),
    ...(resource.annotations === undefined ? {} : { annotations: resource.annotations }),
    ...(resource.icons === undefined ? {} : { icons: resource.icons }),
    ...(resource._meta === undefined ? {} : { _meta: resource._meta }),
  };
}
