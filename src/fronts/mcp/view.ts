/**
 * What one MCP client sees of the catalogue: the merged catalogue (namespaced names, as the CLI
 * and chat see it), one server under its own names, or a profile (gateway.profiles: some
 * servers, and allow/deny globs on namespaced tool names). Routing goes through the router by
 * namespaced name, so the plugins' hooks apply on every path.
 */
import { McpdError } from '../../errors.js';
import { isAllowed } from '../../util/glob.js';
import { mergeInstructions } from '../../util/instructions.js';
import type { ProfileConfig } from '../../ports/index.js';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Ports } from '../../ports/index.js';
import type { PromptEntry, ResourceEntry, ToolEntry } from '../../protocol/types.js';

/** What an endpoint's view reads. */
export type ViewPorts = Pick<Ports, 'daemon' | 'servers' | 'catalogue' | 'ephemeral'>;

export type ViewSpec = { kind: 'merged' } | { kind: 'server'; server: string } | { kind: 'profile'; profile: string };

/** The endpoint path of a view, as the HTTP gateway and the bridge's socket name them. */
export function viewPath(spec: ViewSpec): string {
  if (spec.kind === 'merged') return '/mcp';
  return spec.kind === 'server' ? `/servers/${encodeURIComponent(spec.server)}/mcp` : `/profiles/${encodeURIComponent(spec.profile)}/mcp`;
}

/** The view an endpoint path names, or undefined for a path that names none. */
export function parseViewPath(path: string): ViewSpec | undefined {
  if (path === '/mcp' || path === '/mcp/') return { kind: 'merged' };
  const match = /^\/(servers|profiles)\/([^/]+)\/mcp\/?$/.exec(path);
  if (!match) return undefined;
  const name = decodeURIComponent(match[2]!);
  return match[1] === 'servers' ? { kind: 'server', server: name } : { kind: 'profile', profile: name };
}

export class EndpointView {
  constructor(
    readonly spec: ViewSpec,
    private readonly ports: ViewPorts,
  ) {}

  get label(): string {
    return viewPath(this.spec);
  }

  /** Throws MCPD_SERVER_UNKNOWN / MCPD_PROFILE_UNKNOWN for a view of something not in the config. */
  check(): void {
    if (this.spec.kind === 'server') {
      this.ports.servers.assertKnown(this.spec.server);
      if (this.ports.ephemeral.isEphemeral(this.spec.server))
        throw new McpdError('MCPD_SERVER_UNKNOWN', `"${this.spec.server}" is a chat's own server, not one of the config.`, {
          server: this.spec.server,
        });
    }
    if (this.spec.kind === 'profile') this.ports.daemon.profile(this.spec.profile);
  }

  /** The profile as the running config has it now (a reload may change it). */
  private profile(): ProfileConfig | undefined {
    return this.spec.kind === 'profile' ? this.ports.daemon.profile(this.spec.profile) : undefined;
  }

  private hasServer(server: string): boolean {
    // A chat's own server (mcpd chat ./weather.py) is that chat's: hosts never see it come and go.
    if (this.ports.ephemeral.isEphemeral(server)) return false;
    const profile = this.profile();
    return !profile || profile.servers.length === 0 || profile.servers.includes(server);
  }

  /** Whether a change to this server's lists concerns this view. */
  includes(server: string): boolean {
    if (this.spec.kind === 'server') return this.spec.server === server;
    try {
      return this.hasServer(server);
    } catch {
      return false; // the profile was removed by a reload
    }
  }

  /** The tools with the names this view exposes them under. */
  async tools(): Promise<(ToolEntry & { exposed: string })[]> {
    const spec = this.spec;
    const entries = await this.entries();
    return entries.map((t) => ({ ...t, exposed: spec.kind === 'server' ? t.originalName : t.name }));
  }

  /** The catalogue's own entries of the view's tools (the same objects until the catalogue changes). */
  async entries(): Promise<ToolEntry[]> {
    const spec = this.spec;
    if (spec.kind === 'server') return this.ports.catalogue.tools(spec.server);
    const profile = this.profile();
    const all = (await this.ports.catalogue.tools()).filter((t) => this.hasServer(t.server));
    return profile ? all.filter((t) => isAllowed(t.name, profile.tools)) : all;
  }

  /** What this view tells a host in `instructions`: who answers, and what its servers say of their own use. */
  instructions(): string {
    const intro =
      this.spec.kind === 'server'
        ? `mcpd: the server "${this.spec.server}", run by mcpd.`
        : 'mcpd: tools of the servers mcpd runs, named SERVER__TOOL.';
    return mergeInstructions(intro, this.servers(), this.spec.kind !== 'server');
  }

  /** Whether the catalogue has a tool of this namespaced name that this view leaves out (a profile's allow/deny, its servers). */
  async hides(name: string): Promise<boolean> {
    if (this.spec.kind === 'merged') return false;
    const all = await this.ports.catalogue.tools();
    return all.some((t) => t.name === name) && !(await this.entries()).some((t) => t.name === name);
  }

  /**
   * A profile of `exposure: "search"`: its list holds the pinned tools and the two meta-tools
   * that find and call the rest (search-tools.ts); undefined for every other view.
   */
  search(): { pinned: readonly string[] } | undefined {
    try {
      const profile = this.profile();
      return profile?.exposure === 'search' ? { pinned: profile.pinned } : undefined;
    } catch {
      return undefined; // the profile was removed by a reload: its requests fail on their own
    }
  }

  /** The namespaced name of a tool this view exposes as `exposed`, if any. */
  async resolveTool(exposed: string): Promise<string | undefined> {
    if (this.spec.kind === 'merged') return exposed;
    return (await this.tools()).find((t) => t.exposed === exposed)?.name;
  }

  resources(): ResourceEntry[] {
    if (this.spec.kind === 'server') return this.ports.catalogue.resources(this.spec.server);
    return this.ports.catalogue.resources().filter((r) => this.hasServer(r.server));
  }

  /** The server to read a URI from: in a server view, that server; merged, the catalogue decides. */
  resourceServer(): string | undefined {
    return this.spec.kind === 'server' ? this.spec.server : undefined;
  }

  prompts(): (PromptEntry & { exposed: string })[] {
    const spec = this.spec;
    if (spec.kind === 'server') return this.ports.catalogue.prompts(spec.server).map((p) => ({ ...p, exposed: p.originalName }));
    return this.ports.catalogue
      .prompts()
      .filter((p) => this.hasServer(p.server))
      .map((p) => ({ ...p, exposed: p.name }));
  }

  resolvePrompt(exposed: string): string | undefined {
    if (this.spec.kind === 'merged') return exposed;
    return this.prompts().find((p) => p.exposed === exposed)?.name;
  }

  /** The servers this view covers that answer (running or idle), with what each can do. */
  servers(): { name: string; capabilities: ServerCapabilities; instructions?: string }[] {
    return this.ports.servers.available().filter((s) => this.includes(s.name));
  }

  /** The server a resource URI is read from (and subscribed at) in this view. */
  resourceOwner(uri: string): string | undefined {
    if (this.spec.kind === 'server') return this.spec.server;
    return this.ports.catalogue.resourceOwners(uri).find((server) => this.includes(server));
  }

  /** Whether a URI no server lists may be routed by the templates of all servers (the merged view). */
  allowsTemplates(): boolean {
    return this.spec.kind === 'merged';
  }

  /** In a profile, a resource of a server outside it is not there. */
  allowsResource(uri: string): boolean {
    return this.spec.kind !== 'profile' || this.resources().some((r) => r.uri === uri);
  }

  /**
   * A server's ui:// URI as this view shows it. Views of several servers make each unique,
   * keeping the scheme: `ui://weather/app.html` of server "wx" is `ui://wx/weather/app.html`
   * (two servers' Apps may well have the same URI); one server's view shows it as it is.
   */
  exposeUri(server: string, uri: string): string {
    if (this.spec.kind === 'server' || !uri.startsWith('ui://')) return uri;
    return `ui://${encodeURIComponent(server)}/${uri.slice('ui://'.length)}`;
  }

  /** The server and its own URI for a ui:// URI this view showed (undefined: not one of this view's). */
  appUri(uri: string): { server: string; uri: string } | undefined {
    if (!uri.startsWith('ui://')) return undefined;
    if (this.spec.kind === 'server') return { server: this.spec.server, uri };
    const rest = uri.slice('ui://'.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return undefined;
    let server: string;
    try {
      server = decodeURIComponent(rest.slice(0, slash));
    } catch {
      return undefined;
    }
    try {
      this.ports.servers.assertKnown(server);
    } catch {
      return undefined;
    }
    return this.includes(server) ? { server, uri: `ui://${rest.slice(slash + 1)}` } : undefined;
  }
}
