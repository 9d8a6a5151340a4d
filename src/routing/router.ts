/**
 * Routes a call on a namespaced name to its server, by table, through the plugins' hooks.
 * Every front (control socket, chat, bridge) calls through here, so the hooks apply on every path.
 */
import { randomBytes } from 'node:crypto';
import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { Catalogue } from '../catalogue/catalogue.js';
import { SEPARATOR, sanitize } from '../catalogue/naming.js';
import type { PublishedCatalogue } from '../catalogue/published.js';
import { McpdError, errorMessage } from '../errors.js';
import type { PromptGet, ResourceRead, ToolCall } from '../plugins/api.js';
import type { PluginRunner } from '../plugins/runner.js';
import type { CallsPort } from '../ports/calls.js';
import type { CallOptions, CallToolResultJson, ForwardedRequest, RoutedCallOptions } from '../protocol/calls.js';
import { isInputRequired } from '../supervisor/managed-server.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { closestWord } from '../util/suggest.js';
import { appResourceOf, isAppCallable, isAppOnly } from '../protocol/apps.js';
import type { ToolEntry } from '../protocol/types.js';
import { AppViews } from './app-views.js';
import type { ServerRequestBridge } from './server-requests.js';
import { Subscriptions } from './subscriptions.js';
import { templateOwners } from './templates.js';

/**
 * Ids that tell calls apart (plugins pair before/after hooks by them): a random prefix per
 * daemon and a counter, rather than random bytes drawn for every call.
 */
const CALL_ID_PREFIX = randomBytes(3).toString('hex');
let callSeq = 0;
function nextCallId(): string {
  callSeq += 1;
  return `${CALL_ID_PREFIX}${callSeq.toString(36)}`;
}

export class ToolRouter implements CallsPort {
  private readonly subscriptions: Subscriptions;
  /** The Apps of calls made, for the dashboard to show. */
  readonly apps = new AppViews();

  constructor(
    private readonly catalogue: Catalogue,
    private readonly view: PublishedCatalogue,
    private readonly supervisor: Supervisor,
    private readonly plugins: PluginRunner,
    private readonly serverRequests: ServerRequestBridge,
  ) {
    this.subscriptions = new Subscriptions(
      (server, request, options) => this.forward(server, request, options),
      (server) => (this.supervisor.has(server) ? this.supervisor.get(server).hold() : () => undefined),
    );
  }

  async callTool(name: string, args: Record<string, unknown> | undefined, options: RoutedCallOptions): Promise<CallToolResultJson> {
    if (this.view.refreshing) await this.view.settled();
    const entry = this.view.resolve(name);
    if (!entry) throw this.unknownTool(name);
    if (options.caller === 'app') this.checkApp(entry, options);
    else if (isAppOnly(entry) && !options.showsApps) {
      throw new McpdError(
        'MCPD_TOOL_APP_ONLY',
        `The tool "${name}" is for the App of server "${entry.server}" only (its _meta.ui.visibility is ["app"]); open that App to use it.`,
        { server: entry.server },
      );
    }
    return this.run(name, entry.server, entry.originalName, args, options, entry);
  }

  /**
   * A call an App makes by its server's own tool name. An App reaches its own server only, and
   * only the tools its server shows Apps (visibility holds "app", the default).
   */
  async callFromApp(
    server: string,
    originalName: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson> {
    if (this.view.refreshing) await this.view.settled();
    const entry = this.view.list().find((t) => t.server === server && t.originalName === originalName);
    if (!entry) {
      const elsewhere = this.view.list().find((t) => t.server !== server && (t.name === originalName || t.originalName === originalName));
      throw new McpdError(
        'MCPD_APP_REFUSED',
        elsewhere
          ? `The App of server "${server}" may not call "${originalName}", a tool of server "${elsewhere.server}": an App calls only its own server's tools.`
          : `The App of server "${server}" called "${originalName}", which that server does not list.`,
        { server },
      );
    }
    return this.callTool(entry.name, args, { ...options, caller: 'app', app: server });
  }

  private checkApp(entry: ToolEntry, options: RoutedCallOptions): void {
    if (entry.server !== options.app) {
      throw new McpdError(
        'MCPD_APP_REFUSED',
        `The App of server "${options.app ?? '?'}" may not call "${entry.name}", a tool of server "${entry.server}": an App calls only its own server's tools.`,
        { server: entry.server },
      );
    }
    if (!isAppCallable(entry)) {
      throw new McpdError(
        'MCPD_APP_REFUSED',
        `The tool "${entry.originalName}" of server "${entry.server}" is for the model only (its _meta.ui.visibility leaves out "app").`,
        { server: entry.server },
      );
    }
  }

  /**
   * A call by the server's own name of a tool the server does not list at all (a one-server MCP
   * endpoint passes it on, so the server answers as it would directly). A tool the server lists
   * but the config or a plugin hides stays refused. The plugins' call hooks apply as ever.
   */
  async callUnlisted(
    server: string,
    originalName: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
  ): Promise<CallToolResultJson> {
    const target = this.supervisor.get(server);
    if (target.currentLists.tools.some((t) => t.name === originalName)) {
      throw new McpdError(
        'MCPD_TOOL_UNKNOWN',
        `The tool "${originalName}" of server "${server}" is hidden (tools.allow/deny or a plugin).`,
        { server },
      );
    }
    return this.run(`${sanitize(server)}${SEPARATOR}${sanitize(originalName)}`, server, originalName, args, options);
  }

  /** One call through the plugins' hooks to its server, by the server's own name of the tool. */
  private async run(
    name: string,
    server: string,
    originalName: string,
    args: Record<string, unknown> | undefined,
    options: RoutedCallOptions,
    entry?: ToolEntry,
  ): Promise<CallToolResultJson> {
    const call: ToolCall = {
      id: nextCallId(),
      tool: name,
      server,
      originalName,
      arguments: args ?? {},
      caller: options.caller,
      ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      ...(options.client ? { client: options.client } : {}),
    };
    const t0 = Date.now();
    const plugins = this.plugins;
    // Hooks no plugin has cost nothing: no dispatch, no copies, no event objects.
    const checked = plugins.has('beforeToolCall') || plugins.guardDown() ? await plugins.beforeToolCall(call) : call;
    if ('deny' in checked) {
      plugins.emit({ type: 'tool:called', call, outcome: 'denied', durationMs: Date.now() - t0, error: checked.deny });
      return { isError: true, content: [{ type: 'text', text: `mcpd did not run ${name}: ${checked.deny}.` }] };
    }
    let result: CallToolResultJson;
    // What the server asks while this call runs goes to this call's caller (server-requests.ts).
    const answers = options.serverRequests;
    const leave = answers && (answers.elicit || answers.sample) ? this.serverRequests.enter(server, answers) : undefined;
    try {
      result = await this.supervisor.get(server).callTool(originalName, checked.arguments, options);
    } catch (error) {
      if (plugins.observed)
        plugins.emit({ type: 'tool:called', call: checked, outcome: 'failed', durationMs: Date.now() - t0, error: errorMessage(error) });
      throw error;
    } finally {
      leave?.();
    }
    // A question for the caller (2026-07-28) is not the call's result: its retry will bring that.
    if (isInputRequired(result)) return result;
    if (plugins.has('afterToolCall')) result = await plugins.afterToolCall(checked, result);
    if (plugins.observed)
      plugins.emit({ type: 'tool:called', call: checked, outcome: result.isError ? 'error' : 'ok', durationMs: Date.now() - t0 });
    // A tool with an App: its result is kept for the dashboard to show (an App's own calls update that App).
    const resourceUri = entry && options.caller !== 'app' ? appResourceOf(entry) : undefined;
    if (resourceUri) {
      const id = this.apps.record({
        server,
        tool: name,
        originalName,
        resourceUri,
        input: checked.arguments,
        result,
        ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      });
      options.onAppView?.(id);
    }
    return result;
  }

  private unknownTool(name: string): McpdError {
    // The tool may belong to a server that is down: say so rather than "no such tool".
    const owner = this.supervisor.list().find((s) => name.startsWith(`${sanitize(s.name)}${SEPARATOR}`) && s.state !== 'running');
    if (owner) {
      const why = owner.status().lastError?.message;
      return new McpdError(
        'MCPD_SERVER_NOT_RUNNING',
        `Server "${owner.name}" is ${owner.state}, so "${name}" is not available${why ? `: ${why}` : '.'}`,
        { server: owner.name },
      );
    }
    if (this.catalogue.resolveTool(name)) {
      return new McpdError(
        'MCPD_TOOL_UNKNOWN',
        `The tool "${name}" is hidden by a plugin's catalogue hook (see the plugins in mcpd status).`,
      );
    }
    const hint = closestWord(
      name,
      this.view.list().map((t) => t.name),
    );
    return new McpdError(
      'MCPD_TOOL_UNKNOWN',
      `No tool named "${name}" in the catalogue.${hint ? ` Did you mean "${hint}"?` : ' List them with: mcpd tools'}`,
    );
  }

  async readResource(uri: string, server: string | undefined, options: RoutedCallOptions): Promise<ReadResourceResult> {
    const owners = this.catalogue.resolveResource(uri).filter((r) => server === undefined || r.server === server);
    if (owners.length > 1) {
      throw new McpdError(
        'MCPD_RESOURCE_UNKNOWN',
        `Several servers list ${uri} (${owners.map((o) => o.server).join(', ')}); name the server.`,
      );
    }
    // A templated URI is not listed: it is read from the server named, or whose template it
    // expands; an App's ui:// resource, from the server whose tool names it.
    const owner = owners[0]?.server ?? server ?? this.appOwner(uri) ?? (await this.templateOwner(uri, options));
    const target = this.supervisor.get(owner);
    const read: ResourceRead = {
      id: nextCallId(),
      uri,
      server: owner,
      caller: options.caller,
      ...(options.client ? { client: options.client } : {}),
    };
    const checked = await this.plugins.beforeResourceRead(read);
    if ('deny' in checked) throw new McpdError('MCPD_PLUGIN_DENIED', `mcpd did not read ${uri}: ${checked.deny}.`, { server: owner });
    const result = await target.readResource(uri, options);
    if (isInputRequired(result)) return result;
    return (await this.plugins.afterResourceRead(read, result)) as ReadResourceResult;
  }

  async getPrompt(name: string, args: Record<string, string> | undefined, options: RoutedCallOptions): Promise<GetPromptResult> {
    const entry = this.catalogue.resolvePrompt(name);
    if (!entry) {
      const guess = closestWord(
        name,
        this.catalogue.prompts().map((p) => p.name),
      );
      throw new McpdError(
        'MCPD_PROMPT_UNKNOWN',
        `No prompt named "${name}" in the catalogue.${guess ? ` Did you mean "${guess}"?` : ''} List them with: mcpd prompts`,
      );
    }
    const target = this.supervisor.get(entry.server);
    const get: PromptGet = {
      id: nextCallId(),
      prompt: name,
      server: entry.server,
      originalName: entry.originalName,
      arguments: args ?? {},
      caller: options.caller,
      ...(options.client ? { client: options.client } : {}),
    };
    const checked = await this.plugins.beforePromptGet(get);
    if ('deny' in checked)
      throw new McpdError('MCPD_PLUGIN_DENIED', `mcpd did not get the prompt ${name}: ${checked.deny}.`, { server: entry.server });
    const result = await target.getPrompt(
      entry.originalName,
      args === undefined && Object.keys(checked.arguments).length === 0 ? undefined : checked.arguments,
      options,
    );
    if (isInputRequired(result)) return result;
    return (await this.plugins.afterPromptGet(checked, result)) as GetPromptResult;
  }

  /** The one server with a tool whose App is `uri` (servers need not list their ui:// resources). */
  private appOwner(uri: string): string | undefined {
    if (!uri.startsWith('ui://')) return undefined;
    const servers = new Set(
      this.catalogue
        .tools()
        .filter((t) => appResourceOf(t) === uri)
        .map((t) => t.server),
    );
    if (servers.size > 1)
      throw new McpdError('MCPD_RESOURCE_UNKNOWN', `Several servers have an App at ${uri} (${[...servers].join(', ')}); name the server.`);
    return servers.values().next().value;
  }

  /** The one server whose resource template `uri` expands (a URI no server lists); else MCPD_RESOURCE_UNKNOWN. */
  async templateOwner(uri: string, options: CallOptions): Promise<string> {
    const owners = await templateOwners(
      { available: () => this.supervisor.available(), forward: (...a) => this.forward(...a) },
      uri,
      options,
    );
    if (owners.length === 1) return owners[0]!;
    throw new McpdError(
      'MCPD_RESOURCE_UNKNOWN',
      owners.length === 0
        ? `No server lists a resource ${uri}, nor has a template it fits; to read it anyway, name its server (mcpd resource read URI --server NAME).`
        : `The templates of several servers fit ${uri} (${owners.join(', ')}); name the server.`,
    );
  }

  forward(server: string, request: ForwardedRequest, options: CallOptions): Promise<unknown> {
    return this.supervisor.get(server).forward(request, options);
  }

  subscribe(server: string, uri: string, options: CallOptions): Promise<void> {
    return this.subscriptions.subscribe(server, uri, options);
  }

  unsubscribe(server: string, uri: string, options: CallOptions): Promise<void> {
    return this.subscriptions.unsubscribe(server, uri, options);
  }
}
