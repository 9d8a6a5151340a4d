/**
 * The 2026-07-28 era of MCP on the gateway's endpoints: session-less requests, each carrying its
 * protocol version, client capabilities and client info in `_meta`. The v2 SDK's
 * `createMcpHandler` serves them (server/discover, the validation ladder and its error codes,
 * `resultType`, cache hints, subscriptions/listen), one handler per endpoint path, each request
 * answered by a fresh v2 `Server` over the endpoint's view through answers.ts — the same answers
 * the 2025 sessions give. List changes of the view's servers go to that handler's listen streams.
 */
import { CLIENT_INFO_META_KEY, Server, createMcpHandler, type McpHttpHandler, type ServerContext } from '@modelcontextprotocol/server';
import type { Logger, Ports } from '../../ports/index.js';
import type { Progress } from '../../protocol/calls.js';
import { VERSION } from '../../version.js';
import {
  callTool,
  complete,
  getPrompt,
  listPrompts,
  listResources,
  listTemplates,
  listTools,
  readResource,
  type Caller,
} from './answers.js';
import type { EndpointView } from './view.js';

export type ModernPorts = Pick<Ports, 'calls' | 'events'>;

/** Who asked, from the request's own `_meta` (there is no initialize to remember it from). */
function callerOf(ctx: ServerContext): Caller {
  // (The SDK types the envelope as an open object.)
  const envelope = ctx.mcpReq.envelope as Record<string, { name?: unknown } | undefined> | undefined;
  const client = envelope?.[CLIENT_INFO_META_KEY]?.name;
  return { caller: 'mcp-client', ...(typeof client === 'string' ? { client } : {}) };
}

/** One request's server: what the view holds, routed as for a 2025 session. */
function serverFor(ports: ModernPorts, view: EndpointView): Server {
  const server = new Server(
    { name: 'mcpd', version: VERSION },
    {
      capabilities: { tools: { listChanged: true }, resources: { listChanged: true }, prompts: { listChanged: true }, completions: {} },
      instructions: `mcpd: ${view.spec.kind === 'server' ? `the server "${view.spec.server}", run by mcpd` : 'tools of the servers mcpd runs, named SERVER__TOOL'}.`,
    },
  );
  server.setRequestHandler('tools/list', async () => ({ tools: await listTools(view) }) as never);
  server.setRequestHandler('tools/call', async (request, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    return (await callTool(ports, view, {
      name: request.params.name,
      arguments: request.params.arguments,
      caller: callerOf(ctx),
      // Questions of a 2025 upstream to a 2026 client become input-required results (not yet): declined.
      serverRequests: {},
      signal: ctx.mcpReq.signal,
      onProgress:
        token === undefined
          ? undefined
          : (progress: Progress) =>
              void ctx.mcpReq
                .notify({ method: 'notifications/progress', params: { progressToken: token, ...progress } })
                .catch(() => undefined),
    })) as never;
  });
  server.setRequestHandler('resources/list', async () => ({ resources: listResources(view) }) as never);
  server.setRequestHandler(
    'resources/templates/list',
    async (_request, ctx) => ({ resourceTemplates: await listTemplates(ports, view, ctx.mcpReq.signal) }) as never,
  );
  server.setRequestHandler(
    'resources/read',
    async (request, ctx) => (await readResource(ports, view, request.params.uri, callerOf(ctx), ctx.mcpReq.signal)) as never,
  );
  server.setRequestHandler('prompts/list', async () => ({ prompts: listPrompts(view) }) as never);
  server.setRequestHandler(
    'prompts/get',
    async (request, ctx) => (await getPrompt(ports, view, request.params, callerOf(ctx), ctx.mcpReq.signal)) as never,
  );
  server.setRequestHandler(
    'completion/complete',
    async (request, ctx) => (await complete(ports, view, request.params as never, ctx.mcpReq.signal)) as never,
  );
  return server;
}

/** The 2026 handlers of a front's endpoints, made on first use, told of list changes, closed with the front. */
export class ModernEndpoints {
  private readonly handlers = new Map<string, { view: EndpointView; handler: McpHttpHandler }>();
  private readonly off: () => void;

  constructor(
    private readonly ports: ModernPorts,
    private readonly log: Logger,
  ) {
    this.off = ports.events.on('catalogue:changed', (event) => {
      for (const { view, handler } of this.handlers.values()) {
        if (!view.includes(event.server)) continue;
        if (event.kind === 'tools') handler.notify.toolsChanged();
        else if (event.kind === 'resources') handler.notify.resourcesChanged();
        else handler.notify.promptsChanged();
      }
    });
  }

  /** The handler of one endpoint (`path`, seen through `view`). */
  handler(path: string, view: EndpointView): McpHttpHandler {
    let entry = this.handlers.get(path);
    if (!entry) {
      const handler = createMcpHandler(() => serverFor(this.ports, view), {
        // 2025 requests never come here: the front keeps them on their sessions.
        legacy: 'reject',
        onerror: (error) => this.log.warn(`HTTP gateway (2026-07-28): ${error.message}`),
      });
      entry = { view, handler };
      this.handlers.set(path, entry);
    }
    return entry.handler;
  }

  async close(): Promise<void> {
    this.off();
    await Promise.allSettled([...this.handlers.values()].map((h) => h.handler.close()));
    this.handlers.clear();
  }
}
