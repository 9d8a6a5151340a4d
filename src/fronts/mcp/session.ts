/**
 * The MCP server side of the daemon, written once and used by every MCP front (the bridge's
 * socket, the HTTP gateway): one SDK `Server` per client session, over a view of the catalogue.
 * Calls go through the router as caller `mcp-client`, so plugins and timeouts apply; a
 * client's cancellation reaches the upstream server, and upstream progress reaches the client
 * under the client's own progress token. `list_changed` is sent when the view's part changes.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type CompleteResult,
  type GetPromptResult,
  type LoggingLevel,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ResourceTemplate,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpClientStatus } from '../../protocol/types.js';
import { showsApps, withoutApps } from '../../protocol/apps.js';
import { VERSION } from '../../version.js';
import type { Ports } from '../../ports/index.js';
import type { Progress, ServerRequestHandler } from '../../protocol/calls.js';
import {
  announceListChanged,
  callTool,
  type Caller,
  complete,
  getPrompt,
  listPrompts,
  listResources,
  listTemplates,
  listTools,
  notHere,
  protocolError,
  readResource,
  wanted,
} from './answers.js';
import type { Cancellation } from '../../hotpath/lazy-abort.js';
import { QuickCallTransport } from './quick-calls.js';
import type { EndpointView } from './view.js';

/** What a call's handler uses of its request's context (the SDK's RequestHandlerExtra, in part). */
type CallExtra = Pick<RequestHandlerExtra<ServerRequest, ServerNotification>, 'sendRequest' | 'sendNotification'> & {
  signal: Cancellation;
};

/** What an MCP session uses of the daemon, beside its view. */
export type SessionPorts = Pick<Ports, 'calls' | 'clients' | 'events' | 'ui' | 'daemon'>;

export interface McpSession {
  readonly server: Server;
  /** The client's name and version from `initialize`, once it said them. */
  client(): { name: string; version: string } | undefined;
  close(): Promise<void>;
}

export interface McpSessionOptions {
  front: McpClientStatus['front'];
  /** Told once, when the session ends (the client went away, or the front closed it). */
  onClosed?: () => void;
}

export function createMcpSession(
  { calls, clients, events, ui, daemon }: SessionPorts,
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
      instructions: view.instructions(),
    },
  );
  // Plugins see who called: caller `mcp-client` and the client's name from its `initialize`.
  // A client of ui.linkClients is one that shows no App here, whatever it declares.
  const linksOnly = () => daemon.linksOnly(server.getClientVersion()?.name);
  const caller = (): Caller => {
    const client = server.getClientVersion()?.name;
    const apps = showsApps(server.getClientCapabilities()) && !linksOnly();
    return { caller: 'mcp-client', ...(client ? { client } : {}), ...(apps ? { showsApps: true } : {}) };
  };
  // A 2026 server has no session to hold the client's level, nor what the client can do: each request carries them.
  const asking = (signal: Cancellation) => {
    const declared = server.getClientCapabilities() as Record<string, unknown> | undefined;
    return { caller: caller(), signal, logLevel, clientCapabilities: declared && linksOnly() ? withoutApps(declared) : declared };
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await listTools(view, caller())) as Tool[] }));

  /** A call, with what the SDK gives a request's handler (its cancellation, its stream's sends). */
  const runCall = async (params: CallToolRequest['params'], extra: CallExtra): Promise<CallToolResult> => {
    const token = params._meta?.progressToken;
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
    return (await callTool({ calls, ui, daemon }, view, {
      name: params.name,
      arguments: params.arguments,
      ...asking(extra.signal),
      serverRequests,
      onProgress:
        token === undefined
          ? undefined
          : (progress: Progress) =>
              void extra
                .sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...progress } })
                .catch(() => undefined),
    })) as CallToolResult;
  };
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => runCall(request.params, extra));
  // Plain calls skip the Server's dispatch (quick-calls.ts), with what its dispatch would give them.
  const quick = new QuickCallTransport(transport, (call, signal) =>
    runCall(
      { name: call.name, arguments: call.arguments, ...(call.meta ? { _meta: call.meta } : {}) },
      {
        signal,
        sendRequest: (request, schema, options) => server.request(request, schema, { ...options, relatedRequestId: call.id }),
        sendNotification: (notification) => server.notification(notification, { relatedRequestId: call.id }),
      },
    ),
  );

  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: listResources(view) as Resource[] }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => ({
    resourceTemplates: (await listTemplates({ calls }, view, extra.signal)) as ResourceTemplate[],
  }));

  server.setRequestHandler(SubscribeRequestSchema, async (request, extra) => {
    const app = view.appUri(request.params.uri);
    if (app) {
      await calls.subscribe(app.server, app.uri, { signal: extra.signal }).catch((error: unknown) => {
        throw protocolError(error);
      });
      subscriptions.set(request.params.uri, app.server);
      return {};
    }
    let owner = view.resourceOwner(request.params.uri);
    // A URI no server lists belongs to the server whose template it expands.
    if (!owner && view.allowsTemplates())
      owner = await calls.templateOwner(request.params.uri, { signal: extra.signal }).catch((error: unknown) => {
        throw protocolError(error);
      });
    if (!owner) throw notHere(`resource ${request.params.uri}`, view);
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
    const uri = view.appUri(request.params.uri)?.uri ?? request.params.uri;
    if (owner) await calls.unsubscribe(owner, uri, { signal: extra.signal }).catch(() => undefined);
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

  server.setRequestHandler(
    CompleteRequestSchema,
    async (request, extra) =>
      (await complete({ calls }, view, request.params, { ...asking(extra.signal), signal: extra.signal })) as CompleteResult,
  );
  server.setRequestHandler(
    ReadResourceRequestSchema,
    async (request, extra) => (await readResource({ calls }, view, request.params.uri, asking(extra.signal))) as ReadResourceResult,
  );
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: listPrompts(view) as Prompt[] }));
  server.setRequestHandler(
    GetPromptRequestSchema,
    async (request, extra) => (await getPrompt({ calls }, view, request.params, asking(extra.signal))) as GetPromptResult,
  );

  const subscriptions = new Map<string, string>();
  let logLevel: LoggingLevel | undefined;
  const offUpdated = events.on('resource:updated', (event) => {
    const uri = view.exposeUri(event.server, event.uri);
    if (subscriptions.get(uri) === event.server) void server.sendResourceUpdated({ uri }).catch(() => undefined);
  });
  const offLogs = events.on('log:line', (entry) => {
    if (entry.stream !== 'mcp' || !view.includes(entry.source)) return;
    const level = (entry.mcpLevel ?? entry.level) as LoggingLevel;
    if (!wanted(level, logLevel)) return;
    void server.sendLoggingMessage({ level, logger: entry.source, data: entry.text }).catch(() => undefined);
  });

  // The view's part of the catalogue changed: tell this client.
  const off = events.on('catalogue:changed', (event) => {
    if (view.includes(event.server)) announceListChanged(server, event.kind);
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
      for (const [uri, owner] of subscriptions) void calls.unsubscribe(owner, view.appUri(uri)?.uri ?? uri, {}).catch(() => undefined);
      subscriptions.clear();
      if (announced) clients.disconnected(announced);
      onClosed?.();
      await server.close().catch(() => undefined);
    },
  };
  server.onclose = () => void session.close();
  return server.connect(quick).then(() => session);
}
