/**
 * What both kinds of upstream share: the MCP SDK's v2 Client (both eras: it probes
 * `server/discover` and falls back to `initialize`, or is pinned by `servers.NAME.protocol`), with
 * mcpd's handlers for what a server sends (logs, resource updates, list changes, and its own
 * questions, answered through `deps.requests`; at 2026-07-28 the client fulfils a server's
 * input-required results through the same handlers), and every request mcpd makes of a server.
 * stdio/ and http/ add how the connection is made and closed.
 */
import { UI_CAPABILITY, UI_EXTENSION } from '../protocol/apps.js';
import {
  CLIENT_CAPABILITIES_META_KEY,
  Client,
  LOG_LEVEL_META_KEY,
  type McpSubscription,
  type PriorDiscovery,
  type VersionNegotiationMode,
} from '@modelcontextprotocol/client';
import {
  ErrorCode,
  McpError,
  type CallToolResult,
  type GetPromptResult,
  type Prompt,
  type ReadResourceResult,
  type Resource,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import * as z from 'zod';
import type { ProtocolChoice, ServerConfig } from '../config/types.js';
import { abortSignalOf } from '../hotpath/lazy-abort.js';
import type { ForwardedRequest, InputRound, LogMessage, Progress, ServerRequestHandler, UpstreamRequests } from '../protocol/calls.js';
import { JsonRpcError } from '../protocol/jsonrpc.js';
import { untilAborted } from '../util/time.js';
import { mcpErrors } from './client-errors.js';
import { paramDeclarations, paramHeaders, type ParamDeclaration } from './param-headers.js';
import type { ListKind, ServerLists, Upstream, UpstreamCallOptions, UpstreamDeps, UpstreamHooks, UpstreamTransport } from './types.js';

/** The revision mcpd speaks to a server of the 2026 era. */
export const MODERN_REVISION = '2026-07-28';

/** How the client negotiates, from `servers.NAME.protocol`. */
function negotiation(choice: ProtocolChoice): VersionNegotiationMode {
  return choice === 'auto' ? 'auto' : choice === MODERN_REVISION ? { pin: MODERN_REVISION } : 'legacy';
}

const MAX_PAGES = 100;
/** Rounds of questions one call may ask before mcpd gives up on it (the SDK's own default is 10). */
const MAX_INPUT_ROUNDS = 10;
/** SEP-2243's HeaderMismatch: what a server says of `Mcp-Param-*` headers its schema no longer has. */
const HEADER_MISMATCH = -32020;
/** How long a server keeps a task mcpd started (its result is awaited at once). */
const TASK_TTL_MS = 10 * 60_000;

/** What starting a task answers (2025-11-25 tasks). */
const CREATED_TASK = z.object({ task: z.object({ taskId: z.string() }).loose() }).loose();

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

/** An accepted form's answer with the defaults of the fields it leaves out, as the schema gives them. */
function withDefaults<T extends { action: string; content?: Record<string, unknown> }>(params: unknown, result: T): T {
  const schema = (params as { mode?: unknown; requestedSchema?: { properties?: Record<string, { default?: unknown }> } } | undefined)
    ?.requestedSchema;
  if (result.action !== 'accept' || (params as { mode?: unknown }).mode === 'url' || !schema?.properties) return result;
  const content = { ...(result.content ?? {}) };
  for (const [key, property] of Object.entries(schema.properties))
    if (content[key] === undefined && property && Object.hasOwn(property, 'default')) content[key] = property.default;
  return { ...result, content };
}

export abstract class SdkUpstream implements Upstream {
  protected readonly client: Client;
  /** Who answers what the server asks when no call's own caller does (roots always). */
  private readonly requests: UpstreamRequests;
  /** The tools' arguments that go out as `Mcp-Param-*` headers too (2026-07-28: param-headers.ts), from the last list. */
  private declarations = new Map<string, ParamDeclaration[]>();
  /**
   * The callers that take this server's log messages per request (2026-07-28), while their calls
   * run. A notification does not say which request it is about, so each gets what the server
   * logs meanwhile (as a 2025 session gets all its servers log).
   */
  private readonly logSinks = new Set<(message: LogMessage) => void>();
  abstract readonly transport: UpstreamTransport | undefined;
  abstract readonly pid: number | null;

  protected constructor(
    readonly config: ServerConfig,
    protected readonly deps: UpstreamDeps,
    hooks: UpstreamHooks,
  ) {
    const changed = (kind: ListKind) => ({ autoRefresh: false, debounceMs: 50, onChanged: () => hooks.onListChanged(kind) });
    const client = new Client(deps.clientInfo, {
      // mcpd passes elicitation and sampling on to the client whose call caused them; a form's
      // fields the person left empty get the schema's defaults (SEP-1034; the SDK fills them in).
      // It shows Apps too (the dashboard): a server offers them, and mcpd links to them for clients that cannot show one.
      capabilities: {
        elicitation: { form: { applyDefaults: true } },
        sampling: {},
        roots: {},
        extensions: { [UI_EXTENSION]: UI_CAPABILITY },
      },
      listChanged: { tools: changed('tools'), resources: changed('resources'), prompts: changed('prompts') },
      versionNegotiation: { mode: negotiation(config.protocol) },
    });
    client.setNotificationHandler('notifications/message', (notification) => {
      const { level, data, logger } = notification.params;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      const mapped = level === 'debug' ? 'debug' : level === 'info' || level === 'notice' ? 'info' : level === 'warning' ? 'warn' : 'error';
      deps.logs.append(config.name, 'mcp', mapped, logger ? `[${logger}] ${text}` : text, level);
      for (const sink of this.logSinks) sink(notification.params);
    });
    client.setNotificationHandler('notifications/resources/updated', (notification) => hooks.onResourceUpdated(notification.params.uri));
    const requests = deps.requests?.(config.name) ?? unanswered(config);
    this.requests = requests;
    client.setRequestHandler('roots/list', () => ({ roots: requests.roots() }));
    client.setRequestHandler('elicitation/create', (request, context) => requests.elicit(request.params, context.mcpReq.signal));
    client.setRequestHandler('sampling/createMessage', (request, context) =>
      requests.sample(request.params as Parameters<UpstreamRequests['sample']>[0], context.mcpReq.signal),
    );
    this.client = client;
  }

  /** Connects the client: negotiates the era, or takes the one a previous start found (`prior`). */
  protected connectClient(
    transport: Parameters<Client['connect']>[0],
    timeoutMs: number,
    signal: AbortSignal,
    prior?: PriorDiscovery,
  ): Promise<void> {
    // The SDK's server/discover probe does not take the signal: a stop must not wait for it.
    return mcpErrors(untilAborted(this.client.connect(transport, { timeout: timeoutMs, signal, ...(prior ? { prior } : {}) }), signal));
  }

  /** The revision the connection speaks, once connected (`2026-07-28`, or the one `initialize` agreed). */
  protocolVersion(): string | undefined {
    return this.client.getNegotiatedProtocolVersion();
  }

  /** Whether the connection speaks the 2026 era (session-less, input-required results). */
  protected modern(): boolean {
    return this.client.getProtocolEra() === 'modern';
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

  instructions(): string | undefined {
    return this.client.getInstructions();
  }

  ping(timeoutMs: number): Promise<unknown> {
    return mcpErrors(this.client.ping({ timeout: timeoutMs }));
  }

  async list(kind: ListKind, timeoutMs: number, signal?: AbortSignal): Promise<Tool[] | Resource[] | Prompt[]> {
    const capabilities = this.client.getServerCapabilities() ?? {};
    if (!capabilities[kind]) return [];
    // Always asked afresh (mcpd keeps the lists itself, and asks when the server says they
    // changed), and kept by the client for what it derives from them (SEP-2243 headers).
    const options = { timeout: timeoutMs, cacheMode: 'refresh' as const, ...(signal ? { signal } : {}) };
    const items: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const params = cursor === undefined ? {} : { cursor };
      const result =
        kind === 'tools'
          ? await mcpErrors(this.client.listTools(params, options)).then((r) => ({ items: r.tools, next: r.nextCursor }))
          : kind === 'resources'
            ? await mcpErrors(this.client.listResources(params, options)).then((r) => ({ items: r.resources, next: r.nextCursor }))
            : await mcpErrors(this.client.listPrompts(params, options)).then((r) => ({ items: r.prompts, next: r.nextCursor }));
      items.push(...result.items);
      cursor = result.next;
      if (!cursor) break;
    }
    if (kind === 'tools')
      this.declarations = new Map(
        (items as Tool[]).map((tool) => [tool.name, paramDeclarations(tool.inputSchema)] as const).filter(([, found]) => found.length > 0),
      );
    return items as Tool[] | Resource[] | Prompt[];
  }

  async listAll(timeoutMs: number, signal?: AbortSignal): Promise<ServerLists> {
    const [tools, resources, prompts] = await Promise.all([
      this.list('tools', timeoutMs, signal),
      this.list('resources', timeoutMs, signal),
      this.list('prompts', timeoutMs, signal),
    ]);
    return { tools: tools as Tool[], resources: resources as Resource[], prompts: prompts };
  }

  /**
   * At 2026-07-28 a server may answer input-required: the client fulfils it through the handlers
   * above and retries, unless the caller answers itself (`options.input`): then the result goes
   * back as it came, and a retry carries the caller's answers and the server's state.
   */
  callTool(name: string, args: Record<string, unknown> | undefined, options: UpstreamCallOptions): Promise<CallToolResult> {
    if (options.asTask && !this.modern()) return this.callAsTask(name, args, options);
    const signal = abortSignalOf(options.signal);
    const declared = this.modern() ? this.declarations.get(name) : undefined;
    const requestOptions = {
      timeout: options.timeoutMs,
      resetTimeoutOnProgress: true,
      // Always ask for progress: progress notifications are what extend the timeout.
      onprogress: (progress: Progress) => options.onProgress?.(progress),
      ...(signal ? { signal } : {}),
      ...(declared ? { headers: paramHeaders(declared, args) } : {}),
    };
    const plain = { name, ...(args === undefined ? {} : { arguments: args }) };
    const send = () => {
      if (!options.input && options.answers && this.modern()) return this.askingCaller(plain, requestOptions, options.answers, options);
      return mcpErrors(
        this.client.request({ method: 'tools/call', params: this.withMeta(plain, options) }, RELAYED_RESULT, {
          ...(options.input ? { allowInputRequired: true } : {}),
          ...requestOptions,
        }),
      );
    };
    if (!declared) return this.logging(options, send);
    // Headers from a schema the server has since changed are refused (-32020): list again, once.
    return this.logging(options, () =>
      send().catch(async (error: unknown) => {
        if ((error as { code?: unknown }).code !== HEADER_MISMATCH) throw error;
        await this.list('tools', options.timeoutMs, signal);
        const again = this.declarations.get(name);
        requestOptions.headers = again ? paramHeaders(again, args) : {};
        return send();
      }),
    );
  }

  /**
   * At 2026-07-28 a server's question comes in the answer to the call it is about, so it goes to
   * that call's own caller (a 2025 server's request must be matched to a call in flight, and is
   * declined when several could have caused it), and the call is retried with the answers.
   */
  private async askingCaller(
    params: Record<string, unknown>,
    requestOptions: { timeout: number; signal?: AbortSignal; headers?: Record<string, string> },
    answers: ServerRequestHandler,
    { logLevel, clientCapabilities }: Pick<UpstreamCallOptions, 'logLevel' | 'clientCapabilities'>,
  ): Promise<CallToolResult> {
    let round: InputRound = {};
    for (let rounds = 0; rounds < MAX_INPUT_ROUNDS; rounds += 1) {
      const result = await mcpErrors(
        this.client.request(
          { method: 'tools/call', params: this.withMeta(params, { input: round, logLevel, clientCapabilities }) },
          RELAYED_RESULT,
          {
            ...requestOptions,
            allowInputRequired: true,
          },
        ),
      );
      if (result['resultType'] !== 'input_required') return result;
      const asked = (result['inputRequests'] ?? {}) as Record<string, { method?: unknown; params?: unknown }>;
      const responses: Record<string, unknown> = {};
      const signal = requestOptions.signal ?? new AbortController().signal;
      for (const [key, question] of Object.entries(asked)) responses[key] = await this.answer(question, answers, signal);
      round = {
        inputResponses: responses,
        ...(typeof result['requestState'] === 'string' ? { requestState: result['requestState'] } : {}),
      };
    }
    throw new McpError(
      ErrorCode.InternalError,
      `server "${this.config.name}" was still asking after ${MAX_INPUT_ROUNDS} rounds of answers`,
    );
  }

  /** One question of an input-required result, answered by the call's caller (roots: from the config). */
  private answer(question: { method?: unknown; params?: unknown }, answers: ServerRequestHandler, signal: AbortSignal): Promise<unknown> {
    const server = this.config.name;
    const decline = (what: string) =>
      this.deps.logs.append(
        server,
        'daemon',
        'warn',
        `declined: server "${server}" asked for ${what}, and the caller of this call cannot answer it`,
      );
    switch (question.method) {
      case 'elicitation/create':
        if (answers.elicit) {
          const params = question.params as Parameters<UpstreamRequests['elicit']>[0];
          // (What the SDK does for the questions it answers: the schema's defaults, SEP-1034.)
          return answers.elicit(params, signal, server).then((result) => withDefaults(params, result));
        }
        decline('an elicitation');
        return Promise.resolve({ action: 'decline' });
      case 'sampling/createMessage':
        if (answers.sample) return answers.sample(question.params as Parameters<UpstreamRequests['sample']>[0], signal, server);
        decline('a sampling request');
        return Promise.reject(
          new McpError(
            ErrorCode.InvalidRequest,
            `mcpd declined the sampling request of server "${server}": this call's caller cannot answer it`,
          ),
        );
      case 'roots/list':
        return Promise.resolve({ roots: this.requests.roots() });
      default:
        return Promise.reject(
          new McpError(ErrorCode.InvalidRequest, `server "${server}" asked ${String(question.method)}, which mcpd cannot answer`),
        );
    }
  }

  /**
   * A tool its server runs only as a task (2025-11-25 tasks): the call starts one, and
   * `tasks/result` waits for its result (what the server asks meanwhile comes as requests related
   * to the task, answered as any). The caller sees a plain call; cancelling it cancels the task.
   */
  private async callAsTask(name: string, args: Record<string, unknown> | undefined, options: UpstreamCallOptions): Promise<CallToolResult> {
    const signal = abortSignalOf(options.signal);
    const created = await mcpErrors(
      this.client.request(
        { method: 'tools/call', params: { name, ...(args === undefined ? {} : { arguments: args }), task: { ttl: TASK_TTL_MS } } },
        CREATED_TASK,
        { timeout: options.timeoutMs, ...(signal ? { signal } : {}) },
      ),
    );
    const taskId = created.task.taskId;
    const cancel = () =>
      void this.client
        .request({ method: 'tasks/cancel', params: { taskId } }, RELAYED_RESULT, { timeout: options.timeoutMs })
        .catch(() => undefined);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      return await mcpErrors(
        this.client.request({ method: 'tasks/result', params: { taskId } }, RELAYED_RESULT, {
          timeout: options.timeoutMs,
          resetTimeoutOnProgress: true,
          onprogress: (progress) => options.onProgress?.(progress),
          ...(signal ? { signal } : {}),
        }),
      );
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  readResource(uri: string, options: UpstreamCallOptions): Promise<ReadResourceResult> {
    if (options.input) return this.asking('resources/read', { uri }, options) as Promise<ReadResourceResult>;
    return this.logging(options, () =>
      mcpErrors(this.client.readResource(this.withMeta({ uri }, options), { ...this.requestOptions(options), cacheMode: 'bypass' })),
    );
  }

  getPrompt(name: string, args: Record<string, string> | undefined, options: UpstreamCallOptions): Promise<GetPromptResult> {
    const params = { name, ...(args ? { arguments: args } : {}) };
    if (options.input) return this.asking('prompts/get', params, options) as Promise<GetPromptResult>;
    return this.logging(options, () => mcpErrors(this.client.getPrompt(this.withMeta(params, options), this.requestOptions(options))));
  }

  /** A request whose caller answers the server's questions itself (see callTool): one round, as it comes. */
  private asking(
    method: 'resources/read' | 'prompts/get',
    params: Record<string, unknown>,
    options: UpstreamCallOptions,
  ): Promise<unknown> {
    return this.logging(options, () =>
      mcpErrors(
        this.client.request({ method, params: this.withMeta(params, options) }, RELAYED_RESULT, {
          ...this.requestOptions(options),
          allowInputRequired: true,
        }),
      ),
    );
  }

  /**
   * At 2026-07-28, what a request carries that a session would have held: a round's answers and
   * state, the capabilities of the caller who answers (the server asks only what that caller can
   * answer, not what mcpd could), and the log level. mcpd asks for `info` at least, for its own
   * log (`mcpd logs`), whatever the caller wants: a caller's front passes on only what it asked for.
   */
  private withMeta<P extends Record<string, unknown>>(
    params: P,
    options: Pick<UpstreamCallOptions, 'input' | 'logLevel' | 'clientCapabilities'>,
  ): P {
    if (!this.modern()) return params;
    const input = options.input;
    const capabilities = input?.clientCapabilities ?? options.clientCapabilities;
    return {
      ...params,
      ...(input?.inputResponses ? { inputResponses: input.inputResponses } : {}),
      ...(input?.requestState !== undefined ? { requestState: input.requestState } : {}),
      _meta: {
        [LOG_LEVEL_META_KEY]: options.logLevel === 'debug' ? 'debug' : 'info',
        ...(capabilities ? { [CLIENT_CAPABILITIES_META_KEY]: capabilities } : {}),
      },
    };
  }

  /** Runs one request with its caller taking the server's log messages meanwhile, if it asked to. */
  protected async logging<T>(options: UpstreamCallOptions, run: () => Promise<T>): Promise<T> {
    const sink = options.onLog;
    if (!sink) return run();
    this.logSinks.add(sink);
    try {
      return await run();
    } finally {
      // A message that came just before the answer may still be on its way to the handler (the
      // SDK dispatches notifications a few promise turns later than responses): let it arrive.
      await nextTurn();
      this.logSinks.delete(sink);
    }
  }

  forward(request: ForwardedRequest, options: UpstreamCallOptions): Promise<unknown> {
    return mcpErrors(this.forwarded(request, options));
  }

  private forwarded(request: ForwardedRequest, options: UpstreamCallOptions): Promise<unknown> {
    const requestOptions = this.requestOptions(options);
    switch (request.method) {
      case 'logging/setLevel':
        // The 2026 era has no session to set: the level goes with each request (withMeta).
        if (this.modern()) return Promise.resolve({});
        return this.client.setLoggingLevel(request.params.level, requestOptions);
      case 'resources/subscribe':
        if (this.modern()) return this.listenTo(request.params.uri, true, requestOptions);
        return this.client.subscribeResource(request.params, requestOptions);
      case 'resources/unsubscribe':
        if (this.modern()) return this.listenTo(request.params.uri, false, requestOptions);
        return this.client.unsubscribeResource(request.params, requestOptions);
      case 'resources/templates/list':
        return this.client.listResourceTemplates(request.params, { ...requestOptions, cacheMode: 'bypass' });
      case 'completion/complete':
        return this.logging(options, () => this.client.complete(this.withMeta(request.params, options), requestOptions));
    }
  }

  /**
   * At 2026-07-28 there is no resources/subscribe: one `subscriptions/listen` stream names every
   * URI subscribed to, opened afresh (and the old one closed) when the set changes. Changes are
   * made one at a time.
   */
  private listenTo(uri: string, on: boolean, options: { timeout: number; signal?: AbortSignal }): Promise<object> {
    const change = this.listening.then(async (current) => {
      const before = this.subscribed.size;
      if (on) this.subscribed.add(uri);
      else this.subscribed.delete(uri);
      if (this.subscribed.size === before && current) return current;
      try {
        return this.subscribed.size === 0 ? undefined : await this.client.listen({ resourceSubscriptions: [...this.subscribed] }, options);
      } finally {
        await current?.close().catch(() => undefined);
      }
    });
    // A failed change leaves no stream (the next change opens one for the whole set).
    this.listening = change.catch(() => undefined);
    return change.then(() => ({}));
  }

  private subscribed = new Set<string>();
  private listening: Promise<McpSubscription | undefined> = Promise.resolve(undefined);

  private requestOptions(options: UpstreamCallOptions): { timeout: number; signal?: AbortSignal } {
    const signal = abortSignalOf(options.signal);
    return { timeout: options.timeoutMs, ...(signal ? { signal } : {}) };
  }
}
