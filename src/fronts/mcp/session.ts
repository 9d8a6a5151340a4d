/**
 * The MCP server side of the daemon, written once and used by every MCP front (the bridge's
 * socket, the HTTP gateway): one SDK `Server` per client session, over a view of the catalogue.
 * Calls go through the daemon host as caller `mcp-client`, so plugins and timeouts apply; a
 * client's cancellation reaches the upstream server, and upstream progress reaches the client
 * under the client's own progress token. `list_changed` is sent when the view's part changes.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { isMcpdError, errorMessage } from '../../errors.js';
import type { McpClientStatus } from '../../model.js';
import { VERSION } from '../../version.js';
import type { DaemonHost } from '../host.js';
import type { CatalogueView } from './view.js';

export interface McpSession {
  readonly server: Server;
  /** The client's name and version from `initialize`, once it said them. */
  client(): { name: string; version: string } | undefined;
  close(): Promise<void>;
}

/** Errors that mean "no such thing" (a protocol error) rather than "it failed" (a tool error). */
const NOT_FOUND = new Set(['MCPD_TOOL_UNKNOWN', 'MCPD_RESOURCE_UNKNOWN', 'MCPD_PROMPT_UNKNOWN', 'MCPD_SERVER_UNKNOWN', 'MCPD_PROFILE_UNKNOWN']);

/**
 * A JSON-RPC error for the client. Not an McpError: its message carries an "MCP error N:" prefix
 * that the client's SDK would add a second time.
 */
class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function protocolError(error: unknown): ProtocolError {
  const code = isMcpdError(error) && NOT_FOUND.has(error.code) ? ErrorCode.InvalidParams : ErrorCode.InternalError;
  return new ProtocolError(code, errorMessage(error), isMcpdError(error) ? { code: error.code } : undefined);
}

export function createMcpSession(host: DaemonHost, view: CatalogueView, transport: Transport, front: McpClientStatus['front']): Promise<McpSession> {
  const server = new Server(
    { name: 'mcpd', version: VERSION },
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true } },
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
      })),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = await view.resolveTool(request.params.name);
    if (!name) throw new ProtocolError(ErrorCode.InvalidParams, `No tool named "${request.params.name}" here (${view.label}).`);
    const token = extra._meta?.progressToken;
    try {
      return (await host.callTool(name, request.params.arguments, {
        ...caller(),
        signal: extra.signal,
        ...(token === undefined
          ? {}
          : {
              onProgress: (progress: { progress: number; total?: number; message?: string }) =>
                void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, ...progress } }).catch(() => undefined),
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
  // The catalogue does not keep resource templates yet: none are offered through mcpd.
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    if (!view.allowsResource(request.params.uri)) throw new ProtocolError(ErrorCode.InvalidParams, `No resource ${request.params.uri} here (${view.label}).`);
    try {
      return await host.readResource(request.params.uri, view.resourceServer(), { ...caller(), signal: extra.signal });
    } catch (error) {
      throw protocolError(error);
    }
  });

  server.setRequestHandler(ListPromptsRequestSchema, async () => ({
    prompts: view.prompts().map(({ exposed, server: _server, originalName: _original, name: _name, ...prompt }) => ({ name: exposed, ...prompt })),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const name = view.resolvePrompt(request.params.name);
    if (!name) throw new ProtocolError(ErrorCode.InvalidParams, `No prompt named "${request.params.name}" here (${view.label}).`);
    try {
      return await host.getPrompt(name, request.params.arguments, { ...caller(), signal: extra.signal });
    } catch (error) {
      throw protocolError(error);
    }
  });

  // The view's part of the catalogue changed: tell this client.
  const off = host.on('catalogue:changed', (event) => {
    if (!view.includes(event.server)) return;
    const send =
      event.kind === 'tools' ? server.sendToolListChanged() : event.kind === 'resources' ? server.sendResourceListChanged() : server.sendPromptListChanged();
    void send.catch(() => undefined);
  });

  // Known to status and events once it said who it is.
  let announced: McpClientStatus | undefined;
  server.oninitialized = () => {
    const info = server.getClientVersion();
    announced = { front, endpoint: view.label, name: info?.name ?? 'unknown', version: info?.version ?? '', since: new Date().toISOString() };
    host.clientEvent('connected', announced);
  };

  let closed = false;
  const session: McpSession = {
    server,
    client: () => server.getClientVersion(),
    close: async () => {
      if (closed) return;
      closed = true;
      off();
      if (announced) host.clientEvent('disconnected', announced);
      await server.close().catch(() => undefined);
    },
  };
  server.onclose = () => void session.close();
  return server.connect(transport).then(() => session);
}
