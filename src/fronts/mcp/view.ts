/**
 * What one MCP client sees of the catalogue: the merged catalogue (namespaced names, as the CLI
 * and chat see it), or one server under its own names. Routing goes through the daemon host by
 * namespaced name, so the plugins' hooks apply on every path.
 */
import type { PromptEntry, ResourceEntry, ToolEntry } from '../../model.js';
import type { DaemonHost } from '../host.js';

export type ViewSpec = { kind: 'merged' } | { kind: 'server'; server: string };

/** The endpoint path of a view, as the HTTP gateway and the bridge's socket name them. */
export function viewPath(spec: ViewSpec): string {
  return spec.kind === 'merged' ? '/mcp' : `/servers/${encodeURIComponent(spec.server)}/mcp`;
}

/** The view an endpoint path names, or undefined for a path that names none. */
export function parseViewPath(path: string): ViewSpec | undefined {
  if (path === '/mcp' || path === '/mcp/') return { kind: 'merged' };
  const match = /^\/servers\/([^/]+)\/mcp\/?$/.exec(path);
  if (match) return { kind: 'server', server: decodeURIComponent(match[1]!) };
  return undefined;
}

export class CatalogueView {
  constructor(
    readonly spec: ViewSpec,
    private readonly host: DaemonHost,
  ) {}

  get label(): string {
    return viewPath(this.spec);
  }

  /** Throws MCPD_SERVER_UNKNOWN for a server view of a server not in the config. */
  check(): void {
    if (this.spec.kind === 'server') this.host.assertServer(this.spec.server);
  }

  /** Whether a change to this server's lists concerns this view. */
  includes(server: string): boolean {
    return this.spec.kind === 'merged' || this.spec.server === server;
  }

  /** The tools with the names this view exposes them under. */
  async tools(): Promise<(ToolEntry & { exposed: string })[]> {
    const spec = this.spec;
    if (spec.kind === 'merged') return (await this.host.tools()).map((t) => ({ ...t, exposed: t.name }));
    return (await this.host.tools(spec.server)).map((t) => ({ ...t, exposed: t.originalName }));
  }

  /** The namespaced name of a tool this view exposes as `exposed`, if any. */
  async resolveTool(exposed: string): Promise<string | undefined> {
    if (this.spec.kind === 'merged') return exposed;
    return (await this.tools()).find((t) => t.exposed === exposed)?.name;
  }

  resources(): ResourceEntry[] {
    return this.host.resources(this.spec.kind === 'server' ? this.spec.server : undefined);
  }

  /** The server to read a URI from: in a server view, that server; merged, the catalogue decides. */
  resourceServer(): string | undefined {
    return this.spec.kind === 'server' ? this.spec.server : undefined;
  }

  prompts(): (PromptEntry & { exposed: string })[] {
    const spec = this.spec;
    if (spec.kind === 'merged') return this.host.prompts().map((p) => ({ ...p, exposed: p.name }));
    return this.host.prompts(spec.server).map((p) => ({ ...p, exposed: p.originalName }));
  }

  resolvePrompt(exposed: string): string | undefined {
    if (this.spec.kind === 'merged') return exposed;
    return this.prompts().find((p) => p.exposed === exposed)?.name;
  }
}
