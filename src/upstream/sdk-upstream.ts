/**
 * What both kinds of upstream share: the SDK's Client, with mcpd's handlers for what a server
 * sends (logs, resource updates, list changes, and its own requests, answered through
 * `deps.requests`), and every request mcpd makes of a server. stdio/ and http/ add how the
 * connection is made and closed.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { ServerConfig } from '../config/types.js';
import { abortSignalOf } from '../hotpath/lazy-abort.js';
import type { ForwardedRequest, UpstreamRequests } from '../protocol/calls.js';
import { JsonRpcError } from '../protocol/jsonrpc.js';
import type { ListKind, ServerLists, Upstream, UpstreamCallOptions, UpstreamDeps, UpstreamHooks, UpstreamTransport } from './types.js';

const MAX_PAGES = 100;

/** What mcpd checks of a tool result it relays: an object (content defaults to none). */
const RELAYED_RESULT = z.custom<CallToolResult>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
  message: 'a tool result must be an object',
});

/** Without a router (a server run on its own, in tests): the config's roots, and nobody to ask. */
function unanswered(config: ServerConfig): UpstreamRequests {
  const why = `server "${config.name}" asked its client something, and nothing routes such requests here`;
  return {
    roots: () => config.roots,
    elicit: async () => ({ action: 'decline' }),
    sample: () => Promise.reject(new JsonRpcError(ErrorCode.InvalidRequest, `mcpd declined the sampling request: ${why}`)),
  };
}

export abstract class SdkUpstream implements Upstream {
  protected readonly client: Client;
  abstract readonly transport: UpstreamTransport | undefined;
  abstract readonly pid: number | null;

  protected constructor(
    readonly config: ServerConfig,
    protected readonly deps: UpstreamDeps,
    hooks: UpstreamHooks,
  ) {
    const client = new Client(deps.clientInfo, {
      // mcpd passes elicitation and sampling on to the client whose call caused them.
      capabilities: { elicitation: {}, sampling: {}, roots: {} },
      listChanged: {
        tools: { autoRefresh: false, debounceMs: 50, onChanged: () => hooks.onListChanged('tools') },
        resources: { autoRefresh: false, debounceMs: 50, onChanged: () => hooks.onListChanged('resources') },
        prompts: { autoRefresh: false, debounceMs: 50, onChanged: () => hooks.onListChanged('prompts') },
      },
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      const { level, data, logger } = notification.params;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      const mapped = level === 'debug' ? 'debug' : level === 'info' || level === 'notice' ? 'info' : level === 'warning' ? 'warn' : 'error';
      deps.logs.append(config.name, 'mcp', mapped, logger ? `[${logger}] ${text}` : text, level);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => hooks.onResourceUpdated(notification.params.uri));
    const requests = deps.requests?.(config.name) ?? unanswered(config);
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: requests.roots() }));
    client.setRequestHandler(ElicitRequestSchema, (request, extra) => requests.elicit(request.params, extra.signal));
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => requests.sample(request.params, extra.signal));
    this.client = client;
  }

  abstract initialize(timeoutMs: number, signal: AbortSignal): Promise<void>;
  abstract close(): Promise<void>;

  wantedScope(): string | undefined {
    return undefined;
  }

  closeReason(): string | undefined {
    return undefined;
  }

  serverInfo(): { name: string; version: string } | undefined {
    const info = this.client.getServerVersion();
    return info ? { name: info.name, version: info.version } : undefined;
  }

  capabilities(): ServerCapabilities | undefined {
    return this.client.getServerCapabilities();
  }

  ping(timeoutMs: number): Promise<unknown> {
    return this.client.ping({ timeout: timeoutMs });
  }

  async list(kind: ListKind, timeoutMs: number, signal?: AbortSignal): Promise<Tool[] | Resource[] | Prompt[]> {
    const capabilities = this.client.getServerCapabilities() ?? {};
    if (!capabilities[kind]) return [];
    const options = { timeout: timeoutMs, ...(signal ? { signal } : {}) };
    const items: (Tool | Resource | Prompt)[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const params = cursor === undefined ? {} : { cursor };
      if (kind === 'tools') {
        const result = await this.client.listTools(params, options);
        items.push(...result.tools);
        cursor = result.nextCursor;
      } else if (kind === 'resources') {
        const result = await this.client.listResources(params, options);
        items.push(...result.resources);
        cursor = result.nextCursor;
      } else {
        const result = await this.client.listPrompts(params, options);
        items.push(...result.prompts);
        cursor = result.nextCursor;
      }
      if (!cursor) break;
    }
    return items;
  }

  async listAll(timeoutMs: number, signal?: AbortSignal): Promise<ServerLists> {
    const [tools, resources, prompts] = await Promise.all([
      this.list('tools', timeoutMs, signal),
      this.list('resources', timeoutMs, signal),
      this.list('prompts', timeoutMs, signal),
    ]);
    return { tools: tools as Tool[], resources: resources as Resource[], prompts: prompts };
  }

  callTool(name: string, args: Record<string, unknown> | undefined, options: UpstreamCallOptions): Promise<CallToolResult> {
    const params = { name, ...(args === undefined ? {} : { arguments: args }) };
    return this.client.request({ method: 'tools/call', params }, RELAYED_RESULT, {
      timeout: options.timeoutMs,
      resetTimeoutOnProgress: true,
      // Always ask for progress: progress notifications are what extend the timeout.
      onprogress: (progress) => options.onProgress?.(progress),
      ...(options.signal ? { signal: abortSignalOf(options.signal) } : {}),
    });
  }

  readResource(uri: string, options: UpstreamCallOptions): Promise<ReadResourceResult> {
    return this.client.readResource({ uri }, this.requestOptions(options));
  }

  getPrompt(name: string, args: Record<string, string> | undefined, options: UpstreamCallOptions): Promise<GetPromptResult> {
    return this.client.getPrompt({ name, ...(args ? { arguments: args } : {}) }, this.requestOptions(options));
  }

  forward(request: ForwardedRequest, options: UpstreamCallOptions): Promise<unknown> {
    const requestOptions = this.requestOptions(options);
    switch (request.method) {
      case 'logging/setLevel':
        return this.client.setLoggingLevel(request.params.level, requestOptions);
      case 'resources/subscribe':
        return this.client.subscribeResource(request.params, requestOptions);
      case 'resources/unsubscribe':
        return this.client.unsubscribeResource(request.params, requestOptions);
      case 'resources/templates/list':
        return this.client.listResourceTemplates(request.params, requestOptions);
      case 'completion/complete':
        return this.client.complete(request.params, requestOptions);
    }
  }

  private requestOptions(options: UpstreamCallOptions): { timeout: number; signal?: AbortSignal } {
    const signal = abortSignalOf(options.signal);
    return { timeout: options.timeoutMs, ...(signal ? { signal } : {}) };
  }
}
