/**
 * What an MCP front answers, whichever era asks: the lists of a view, a call, a read, a prompt,
 * a completion. The 2025 session (session.ts, v1 SDK, one per client session) and the 2026
 * session-less server (modern.ts, v2 SDK, one per request) both answer through these, so the two
 * eras can never disagree on what a view holds or how a call is routed.
 */
import type { CompleteRequest, LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { isMcpdError, errorMessage } from '../../errors.js';
import type { Ports } from '../../ports/index.js';
import type { InputRound, LogMessage, Progress, RoutedCallOptions, ServerRequestHandler } from '../../protocol/calls.js';
import { JsonRpcError } from '../../protocol/jsonrpc.js';
import type { Cancellation } from '../../hotpath/lazy-abort.js';
import { RESOURCE_URI_META_KEY, appLinkLine, isAppOnly } from '../../protocol/apps.js';
import { CALL_TOOL, SEARCH_TOOL, callTarget, pinnedOf, searchToolDefinitions, searchTools } from './search-tools.js';
import type { EndpointView } from './view.js';

export type AnswerPorts = Pick<Ports, 'calls'>;
/** A call also needs the dashboard's links to Apps (`ui.appLinks`). */
export type CallPorts = Pick<Ports, 'calls' | 'ui' | 'daemon'>;

/** JSON-RPC's invalid params and internal error (the same numbers in both eras). */
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

/** Errors that mean "no such thing" (a protocol error) rather than "it failed" (a tool error). */
const NOT_FOUND = new Set([
  'MCPD_TOOL_UNKNOWN',
  'MCPD_RESOURCE_UNKNOWN',
  'MCPD_PROMPT_UNKNOWN',
  'MCPD_SERVER_UNKNOWN',
  'MCPD_PROFILE_UNKNOWN',
]);

const MISSING_CAPABILITY = -32021;

/** A JSON-RPC error for the client: "no such thing" is invalid params, the rest internal. */
export function protocolError(error: unknown): JsonRpcError {
  const code = isMcpdError(error) && NOT_FOUND.has(error.code) ? INVALID_PARAMS : INTERNAL_ERROR;
  return new JsonRpcError(code, errorMessage(error), isMcpdError(error) ? { code: error.code } : undefined);
}

/** A 2026 upstream's -32021 (it needs what the client did not declare): the client's to hear, as it was said. */
function capabilityRefusal(error: unknown): JsonRpcError | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const { code, data, message } = e as { code?: unknown; data?: unknown; message?: unknown };
    if (code === MISSING_CAPABILITY && typeof message === 'string')
      return new JsonRpcError(MISSING_CAPABILITY, message.replace(/^MCP error -?\d+: /, ''), data);
  }
  return undefined;
}

export function notHere(what: string, view: EndpointView): JsonRpcError {
  return new JsonRpcError(INVALID_PARAMS, `No ${what} here (${view.label}).`);
}

const LOG_RANK: Record<LoggingLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7 };

/** Whether a log message at `level` is one a client that set `threshold` wants (none set: every one). */
export function wanted(level: LoggingLevel, threshold: LoggingLevel | undefined): boolean {
  return threshold === undefined || LOG_RANK[level] >= LOG_RANK[threshold];
}

/** Who asked, for the plugins: caller `mcp-client` and the name the client gave. */
export interface Caller {
  caller: 'mcp-client';
  client?: string;
  /** The client declared the UI extension: it shows Apps, and its Apps call their app-only tools through it. */
  showsApps?: boolean;
}

/** A tool's `_meta` with its App's URI as this view shows it. */
function exposedMeta(view: EndpointView, server: string, meta: Record<string, unknown>): Record<string, unknown> {
  const ui = meta['ui'] as { resourceUri?: unknown } | undefined;
  const flat = meta[RESOURCE_URI_META_KEY];
  const nested = typeof ui?.resourceUri === 'string';
  if (!nested && typeof flat !== 'string') return meta;
  return {
    ...meta,
    ...(nested ? { ui: { ...ui, resourceUri: view.exposeUri(server, ui.resourceUri as string) } } : {}),
    ...(typeof flat === 'string' ? { [RESOURCE_URI_META_KEY]: view.exposeUri(server, flat) } : {}),
  };
}

/** The model-facing list: app-only tools only for a client that shows Apps (its Apps call them through it). */
export async function listTools(view: EndpointView, caller?: Caller): Promise<Record<string, unknown>[]> {
  const search = view.search();
  const tools = (await view.tools()).filter((t) => caller?.showsApps || !isAppOnly(t));
  const listed = (search ? pinnedOf(tools, search.pinned) : tools).map((t) => ({
    name: t.exposed,
    ...(t.title ? { title: t.title } : {}),
    ...(t.description ? { description: t.description } : {}),
    inputSchema: t.inputSchema,
    ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
    ...(t.annotations ? { annotations: t.annotations } : {}),
    ...(t.icons ? { icons: t.icons } : {}),
    ...(t._meta ? { _meta: exposedMeta(view, t.server, t._meta) } : {}),
  }));
  return search ? [...listed, ...searchToolDefinitions(await modelTools(view, caller))] : listed;
}

/** The view's tools a model may find (search-tools.ts): app-only ones only where the client shows Apps. */
async function modelTools(view: EndpointView, caller: Caller | undefined) {
  return (await view.entries()).filter((t) => caller?.showsApps || !isAppOnly(t));
}

/** What a request brings beside its params: who asks, its cancellation, and what a session would hold. */
export interface Asking {
  caller: Caller;
  signal: Cancellation;
  /** What a 2025 session's client declared, told to a 2026 server with each request. */
  clientCapabilities?: Record<string, unknown> | undefined;
  /** A 2026 client answers a 2026 server's questions itself: this round's answers and state. */
  input?: InputRound | undefined;
  /** The client's log level (its session's, or this request's at 2026-07-28), and where this request's log messages go. */
  logLevel?: LoggingLevel | undefined;
  onLog?: ((message: LogMessage) => void) | undefined;
}

function routed(asking: Asking): RoutedCallOptions {
  return {
    ...asking.caller,
    signal: asking.signal,
    ...(asking.clientCapabilities ? { clientCapabilities: asking.clientCapabilities } : {}),
    ...(asking.input ? { input: asking.input } : {}),
    ...(asking.logLevel ? { logLevel: asking.logLevel } : {}),
    ...(asking.onLog ? { onLog: asking.onLog } : {}),
  };
}

export interface CallAsked extends Asking {
  name: string;
  arguments?: Record<string, unknown> | undefined;
  /** What the server asks during the call, answered by this client (when it can). */
  serverRequests: ServerRequestHandler;
  onProgress?: ((progress: Progress) => void) | undefined;
}

/** A tool call through the router; what could not be made (server down, timeout) is a tool error the model can read. */
export async function callTool(ports: CallPorts, view: EndpointView, asked: CallAsked): Promise<Record<string, unknown>> {
  if (view.search() && (asked.name === SEARCH_TOOL || asked.name === CALL_TOOL)) {
    const tools = await modelTools(view, asked.caller);
    if (asked.name === SEARCH_TOOL) return searchTools(tools, asked.arguments);
    const hidden = await view.hides(String(asked.arguments?.['name']));
    const target = callTarget(tools, asked.arguments, hidden);
    if ('error' in target) return target.error;
    // Exactly the call a host would make by that name (the meta-tools' own names are refused above).
    return callTool(ports, view, { ...asked, name: target.name, arguments: target.arguments });
  }
  const { calls } = ports;
  const name = await view.resolveTool(asked.name);
  // One server's endpoint passes a tool it does not list on to it: the server answers as it would.
  const unlisted = !name && view.spec.kind === 'server' ? view.spec.server : undefined;
  if (!name && !unlisted) throw notHere(`tool named "${asked.name}"`, view);
  let app: string | undefined;
  const options: RoutedCallOptions = {
    ...routed(asked),
    serverRequests: asked.serverRequests,
    ...(asked.onProgress ? { onProgress: asked.onProgress } : {}),
    onAppView: (view) => (app = view),
  };
  try {
    const result = await (unlisted
      ? calls.callUnlisted(unlisted, asked.name, asked.arguments, options)
      : calls.callTool(name!, asked.arguments, options));
    return await exposedResult(view, name, app === undefined ? result : await withAppLink(ports, result, app, asked.caller));
  } catch (error) {
    if (isMcpdError(error) && NOT_FOUND.has(error.code)) throw protocolError(error);
    const refusal = capabilityRefusal(error);
    if (refusal) throw refusal;
    return { isError: true, content: [{ type: 'text', text: errorMessage(error) }] };
  }
}

/**
 * A result for a client that cannot show its App (`ui.appLinks`): the dashboard link to that
 * App after the tool's own content. A client that shows Apps gets the result as it was.
 */
async function withAppLink(ports: CallPorts, result: Record<string, unknown>, view: string, caller: Caller) {
  if (caller.showsApps || !ports.daemon.appLinks() || !Array.isArray(result['content'])) return result;
  const url = await ports.ui.appLink(view).catch(() => undefined);
  if (url === undefined) return result;
  return { ...result, content: [...(result['content'] as unknown[]), { type: 'text', text: appLinkLine(url) }] };
}

/** A result's embedded ui:// resources and links, with their URIs as this view shows them. */
async function exposedResult(view: EndpointView, tool: string | undefined, result: Record<string, unknown>) {
  const content = result['content'];
  if (view.spec.kind === 'server' || !Array.isArray(content)) return result;
  const isApp = (uri: unknown) => typeof uri === 'string' && uri.startsWith('ui://');
  const items = content as Record<string, unknown>[];
  const hasApp = items.some((c) => isApp(c['uri']) || isApp((c['resource'] as { uri?: unknown } | undefined)?.uri));
  if (!hasApp) return result;
  const server = (await view.entries()).find((t) => t.name === tool)?.server;
  if (server === undefined) return result;
  const exposed = items.map((c) => {
    const resource = c['resource'] as { uri?: unknown } | undefined;
    if (isApp(c['uri'])) return { ...c, uri: view.exposeUri(server, c['uri'] as string) };
    if (resource && isApp(resource.uri)) return { ...c, resource: { ...resource, uri: view.exposeUri(server, resource.uri as string) } };
    return c;
  });
  return { ...result, content: exposed };
}

export function listResources(view: EndpointView): Record<string, unknown>[] {
  return view.resources().map(({ server, ...resource }) => ({ ...resource, uri: view.exposeUri(server, resource.uri) }));
}

/** Templates are not in the catalogue: each server of the view that has resources is asked. */
async function templatesOf({ calls }: AnswerPorts, server: string, signal: AbortSignal): Promise<{ uriTemplate: string }[]> {
  const result = (await calls.forward(server, { method: 'resources/templates/list', params: {} }, { signal })) as {
    resourceTemplates: { uriTemplate: string }[];
  };
  return result.resourceTemplates;
}

const templateServers = (view: EndpointView) => view.servers().filter((s) => s.capabilities.resources);

export async function listTemplates(ports: AnswerPorts, view: EndpointView, signal: AbortSignal): Promise<{ uriTemplate: string }[]> {
  const lists = await Promise.allSettled(templateServers(view).map((s) => templatesOf(ports, s.name, signal)));
  return lists.flatMap((l) => (l.status === 'fulfilled' ? l.value : []));
}

export async function readResource(
  { calls }: AnswerPorts,
  view: EndpointView,
  uri: string,
  asking: Asking,
): Promise<Record<string, unknown>> {
  // A ui:// URI names its server (exposeUri); the server need not list it.
  const app = view.appUri(uri);
  if (!app && !view.allowsResource(uri)) throw notHere(`resource ${uri}`, view);
  try {
    const read = await calls.readResource(app?.uri ?? uri, app?.server ?? view.resourceServer(), routed(asking));
    if (!app || !Array.isArray(read.contents)) return read;
    const contents = read.contents.map((c) => (c.uri === app.uri ? { ...c, uri } : c));
    return { ...read, contents };
  } catch (error) {
    throw protocolError(error);
  }
}

export function listPrompts(view: EndpointView): Record<string, unknown>[] {
  return view
    .prompts()
    .map(({ exposed, server: _server, originalName: _original, name: _name, ...prompt }) => ({ name: exposed, ...prompt }));
}

export async function getPrompt(
  { calls }: AnswerPorts,
  view: EndpointView,
  params: { name: string; arguments?: Record<string, string> | undefined },
  asking: Asking,
): Promise<Record<string, unknown>> {
  const name = view.resolvePrompt(params.name);
  if (!name) throw notHere(`prompt named "${params.name}"`, view);
  try {
    return await calls.getPrompt(name, params.arguments, routed(asking));
  } catch (error) {
    throw protocolError(error);
  }
}

/** Routed by its ref: a prompt to the server that owns it, a resource template to the server of the view that offers it. */
export async function complete(
  ports: AnswerPorts,
  view: EndpointView,
  params: CompleteRequest['params'],
  asking: Asking & { signal: AbortSignal },
): Promise<Record<string, unknown>> {
  const { ref } = params;
  const signal = asking.signal;
  let owner: string | undefined;
  let forwarded = params;
  if (ref.type === 'ref/prompt') {
    const prompt = view.prompts().find((p) => p.exposed === ref.name);
    if (!prompt) throw notHere(`prompt named "${ref.name}"`, view);
    owner = prompt.server;
    forwarded = { ...params, ref: { ...ref, name: prompt.originalName } };
  } else if (view.spec.kind === 'server') {
    owner = view.spec.server;
  } else {
    for (const s of templateServers(view)) {
      const templates = await templatesOf(ports, s.name, signal).catch(() => []);
      if (templates.some((t) => t.uriTemplate === ref.uri)) {
        owner = s.name;
        break;
      }
    }
    if (!owner) throw notHere(`resource template ${ref.uri}`, view);
  }
  try {
    return (await ports.calls.forward(owner, { method: 'completion/complete', params: forwarded }, routed(asking))) as Record<
      string,
      unknown
    >;
  } catch (error) {
    throw protocolError(error);
  }
}

/** What both eras' servers can send when a list of the view changes. */
export interface ListChangeSender {
  sendToolListChanged(): Promise<void>;
  sendResourceListChanged(): Promise<void>;
  sendPromptListChanged(): Promise<void>;
}

/** Tells the client that one of the view's lists changed (a client already gone is no error). */
export function announceListChanged(server: ListChangeSender, kind: 'tools' | 'resources' | 'prompts'): void {
  const send =
    kind === 'tools'
      ? server.sendToolListChanged()
      : kind === 'resources'
        ? server.sendResourceListChanged()
        : server.sendPromptListChanged();
  void send.catch(() => undefined);
}
