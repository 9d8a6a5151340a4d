/**
 * The MCP server side of the daemon, written once and used by every MCP front (the bridge's
 * socket, the HTTP gateway): one SDK `Server` per client session, over a view of the catalogue.
 * Calls go through the router as caller `mcp-client`, so plugins and timeouts apply; a
 * client's cancellation reaches the upstream server, and upstream progress reaches the client
 * under the client's own progress token. `list_changed` is sent when the view's part changes.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type CompleteResult,
  type ListResourceTemplatesResult,
  type LoggingLevel,
  type ResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { isMcpdError, errorMessage } from '../../errors.js';
import type { McpClientStatus } from '../../protocol/types.js';
import { VERSION } from '../../version.js';
import type { Ports } from '../../ports/index.js';
import type { Progress, RoutedCallOptions, ServerRequestHandler } from '../../protocol/calls.js';
import { JsonRpcError } from '../../protocol/jsonrpc.js';
import type { EndpointView } from './view.js';

/** What an MCP session uses of the daemon, beside its view. */
export type SessionPorts = Pick<Ports, 'calls' | 'clients' | 'events'>;

export interface McpSession {
  readonly server: Server;
  /** The client's name and version from `initialize`, once it said them. */
  client(): { name: string; version: string } | undefined;
  close(): Promise<void>;
}

/** Errors that mean "no such thing" (a protocol error) rather than "it failed" (a tool error). */
const LOG_RANK: Record<LoggingLevel, number> = { debug: 0, info: 1, notice: 2, warning: 3, error: 4, critical: 5, alert: 6, emergency: 7 };

const NOT_FOUND = new Set([
  'MCPD_TOOL_UNKNOWN',
  'MCPD_RESOURCE_UNKNOWN',
  'MCPD_PROMPT_UNKNOWN',
  'MCPD_SERVER_UNKNOWN',
  'MCPD_PROFILE_UNKNOWN',
]);

/** A JSON-RPC error for the client: "no such thing" is invalid params, the rest internal. */
function protocolError(error: unknown): JsonRpcError {
  const code = isMcpdError(error) && NOT_FOUND.has(error.code) ? ErrorCode.InvalidParams : ErrorCode.InternalError;
  return new JsonRpcError(code, errorMessage(error), isMcpdError(error) ? { code: error.code } : undefined);
}

export interface McpSessionOptions {
  front: McpClientStatus['front'];
  /** Told once, when the session ends (the client went away, or the front closed it). */
  onClosed?: () => void;
}

export function createMcpSession(
  { calls, clients, events }: SessionPorts,
  view: EndpointView,
  transport: Transport,
  { front, onClosed }: McpSessionOptions,
): Promise<McpSession> {
  const server = new Server(
    { name: 'mcpd', version: VERSION },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true, subscribe: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      instructions: `mcpd: ${view.spec.kind === 'server' ? `the server "${view.spec.server}", run by mcpd` : 'tools of the servers mcpd runs, named SERVER__TOOL'}.`,
    },
  );
  // Plugins see who called: caller `mcp-client` and the client's name from its `initialize`.
  const caller = (): { caller: 'mcp-client'; client?: string } => {
    const client = server.getClientVersion()?.name;
    return { caller: 'mcp-client', ...(client ? { client } : {}) };
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    const tools = await view.tools();
    return {
      tools: tools.map((t): Tool => ({
        name: t.exposed,
        ...(t.title ? { title: t.title } : {}),
        ...(t.description ? { description: t.description } : {}),
        inputSchema: t.inputSchema as Tool['inputSchema'],
        ...(t.outputSchema ? { outputSchema: t.outputSchema as Tool['outputSchema'] } : {}),
        ...(t.annotations ? { annotations: t.annotations } : {}),
        ...(t.icons ? { icons: t.icons as Tool['icons'] } : {}),
        ...(t._meta ? { _meta: t._meta } : {}),
      })),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = await view.resolveTool(request.params.name);
    // One server's endpoint passes a tool it does not list on to it: the server answers as it would.
    const unlisted = !name && view.spec.kind === 'server' ? view.spec.server : undefined;
    if (!name && !unlisted) throw new JsonRpcError(ErrorCode.InvalidParams, `No tool named "${request.params.name}" here (${view.label}).`);
    const token = extra._meta?.progressToken;
    const call = (args: Record<string, unknown> | undefined, options: RoutedCallOptions) =>
      unlisted ? calls.callUnlisted(unlisted, request.params.name, args, options) : calls.callTool(name!, args, options);
    // What the server asks during this call goes to this client, on this request's stream.
    const capabilities = server.getClientCapabilities();
    const serverRequests: ServerRequestHandler = {
      ...(capabilities?.elicitation
        ? { elicit: (params, signal) => extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema, { signal }) }
        : {}),
      ...(capabilities?.sampling
        ? {
            sample: (params, signal) =>
              extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema, { signal }),
          }
        : {}),
    };
    try {
      return (await call(request.params.arguments, {
        ...caller(),
        serverRequests,
        signal: extra.signal,
        ...(token === undefined
          ? {}
          : {
              onProgress: (progress: Progress) =>
                void extra
                  .sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...progress } })
                  .catch(() => undefined),
            }),
      })) as CallToolResult;
    } catch (error) {
      if (isMcpdError(error) && NOT_FOUND.has(error.code)) throw protocolError(error);
      // A call that could not be made (server down, timeout) is told to the model as a tool error.
      return { isError: true, content: [{ type: 'text', text: errorMessage(error) }] };
    }
  });

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({
    resources: view.resources().map(({ server: _server, ...resource }) => resource),
  }));
  // Templates are not in the catalogue: each server of the view is asked.
  const templatesOf = async (name: string, signal: AbortSignal): Promise<ResourceTemplate[]> => {
    const result = (await calls.forward(
      name,
      { method: 'resources/templates/list', params: {} },
      { signal },
    )) as ListResourceTemplatesResult;
    return result.resourceTemplates;
  };
  const templateServers = () => view.servers().filter((s) => s.capabilities.resources);
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => {
    const lists = await Promise.allSettled(templateServers().map((s) => templatesOf(s.name, extra.signal)));
    return { resourceTemplates: lists.flatMap((l) => (l.status === 'fulfilled' ? l.value : [])) };
  });

  server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    const owner = view.resourceOwner(request.params.uri);
    if (!owner) throw new JsonRpcError(ErrorCode.InvalidParams, `No resource ${request.params.uri} here (${view.label}).`);
    try {
      await calls.subscribe(owner, request.params.uri, { signal: extra.signal });
    } catch (error) {
      throw protocolError(error);
    }
    subscriptions.set(request.params.uri, owner);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (request, extra) => {
    const owner = subscriptions.get(request.params.uri);
    subscriptions.delete(request.params.uri);
    if (owner) await calls.unsubscribe(owner, request.params.uri, { signal: extra.signal }).catch(() => undefined);
    return {};
  });

  // The client's level applies to what the servers of its view log; they are told it too.
  server.setRequestHandler(SetLevelRequestSchema, async (request, extra) => {
    logLevel = request.params.level;
    const targets = view.servers().filter((s) => s.capabilities.logging);
    await Promise.allSettled(
      targets.map((s) =>
        calls.forward(s.name, { method: 'logging/setLevel', params: { level: request.params.level } }, { signal: extra.signal }),
      ),
    );
    return {};
  });

  // Routed by its ref: a prompt to the server that owns it, a resource template to the server of
  // the view that offers it.
  server.setRequestHandler(CompleteRequestSchema, async (request, extra) => {
    const { ref } = request.params;
    let owner: string | undefined;
    let params = request.params;
    if (ref.type === 'ref/prompt') {
      const prompt = view.prompts().find((p) => p.exposed === ref.name);
      if (!prompt) throw new JsonRpcError(ErrorCode.InvalidParams, `No prompt named "${ref.name}" here (${view.label}).`);
      owner = prompt.server;
      params = { ...request.params, ref: { ...ref, name: prompt.originalName } };
    } else if (view.spec.kind === 'server') {
      owner = view.spec.server;
    } else {
      for (const s of templateServers()) {
        const templates = await templatesOf(s.name, extra.signal).catch(() => []);
        if (templates.some((t) => t.uriTemplate === ref.uri)) {
          owner = s.name;
          break;
        }
      }
      if (!owner) throw new JsonRpcError(ErrorCode.InvalidParams, `No resource template ${ref.uri} here (${view.label}).`);
    }
    try {
      return (await calls.forward(owner, { method: 'completion/complete', params }, { signal: extra.signal })) as CompleteResult;
    } catch (error) {
      throw protocolError(error);
    }
  });
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    if (!view.allowsResource(request.params.uri))
      throw new JsonRpcError(ErrorCode.InvalidParams, `No resource ${request.params.uri} here (${view.label}).`);
    try {
      return await calls.readResource(request.params.uri, view.resourceServer(), { ...caller(), signal: extra.signal });
    } catch (error) {
      throw protocolError(error);
    }
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: view
      .prompts()
      .map(({ exposed, server: _server, originalName: _original, name: _name, ...prompt }) => ({ name: exposed, ...prompt })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const name = view.resolvePrompt(request.params.name);
    if (!name) throw new JsonRpcError(ErrorCode.InvalidParams, `No prompt named "${request.params.name}" here (${view.label}).`);
    try {
      return await calls.getPrompt(name, request.params.arguments, { ...caller(), signal: extra.signal });
    } catch (error) {
      throw protocolError(error);
    }
  });

  const subscriptions = new Map<string, string>();
  let logLevel: LoggingLevel | undefined;
  const offUpdated = events.on('resource:updated', (event) => {
    if (subscriptions.get(event.uri) === event.server) void server.sendResourceUpdated({ uri: event.uri }).catch(() => undefined);
  });
  const offLogs = events.on('log:line', (entry) => {
    if (entry.stream !== 'mcp' || !view.includes(entry.source)) return;
    const level = (entry.mcpLevel ?? entry.level) as LoggingLevel;
    if (logLevel !== undefined && LOG_RANK[level] < LOG_RANK[logLevel]) return;
    void server.sendLoggingMessage({ level, logger: entry.source, data: entry.text }).catch(() => undefined);
  });

  // The view's part of the catalogue changed: tell this client.
  const off = events.on('catalogue:changed', (event) => {
    if (!view.includes(event.server)) return;
    const send =
      event.kind === 'tools'
        ? server.sendToolListChanged()
        : event.kind === 'resources'
          ? server.sendResourceListChanged()
          : server.sendPromptListChanged();
    void send.catch(() => undefined);
  });

  // Known to status and events once it said who it is.
  let announced: McpClientStatus | undefined;
  server.oninitialized = () => {
    const info = server.getClientVersion();
    announced = {
      front,
      endpoint: view.label,
      name: info?.name ?? 'unknown',
      version: info?.version ?? '',
      since: new Date().toISOString(),
    };
    clients.connected(announced);
  };

  let closed = false;
  const session: McpSession = {
    server,
    client: () => server.getClientVersion(),
    close: async () => {
      if (closed) return;
      closed = true;
      off();
      offUpdated();
      offLogs();
      for (const [uri, owner] of subscriptions) void calls.unsubscribe(owner, uri, {}).catch(() => undefined);
      subscriptions.clear();
      if (announced) clients.disconnected(announced);
      onClosed?.();
      await server.close().catch(() => undefined);
    },
  };
  server.onclose = () => void session.close();
  return server.connect(transport).then(() => session);
}
