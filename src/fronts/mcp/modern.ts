/**
 * The 2026-07-28 era of MCP on the gateway's endpoints: session-less requests, each carrying its
 * protocol version, client capabilities and client info in `_meta`. The v2 SDK's
 * `createMcpHandler` serves them (server/discover, the validation ladder and its error codes,
 * `resultType`, cache hints, subscriptions/listen), one handler per endpoint path, each request
 * answered by a fresh v2 `Server` over the endpoint's view through answers.ts — the same answers
 * the 2025 sessions give. List changes of the view's servers go to that handler's listen streams.
 */
import { randomBytes } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  LOG_LEVEL_META_KEY,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  SERVER_INFO_META_KEY,
  Server,
  createMcpHandler,
  createRequestStateCodec,
  inputRequired,
  type LoggingLevel,
  type McpHttpHandler,
  type ProgressToken,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { whenAborted, type Cancellation } from '../../hotpath/lazy-abort.js';
import type { Logger, Ports } from '../../ports/index.js';
import type { InputRound, LogMessage, Progress } from '../../protocol/calls.js';
import { VERSION } from '../../version.js';
import { showsApps } from '../../protocol/apps.js';
import {
  callTool,
  complete,
  getPrompt,
  listPrompts,
  listResources,
  listTemplates,
  listTools,
  readResource,
  wanted,
  type Asking,
  type Caller,
} from './answers.js';
import { ParkedCalls, type ParkedCall, type Question } from './parked.js';
import type { EndpointView } from './view.js';

export type ModernPorts = Pick<Ports, 'calls' | 'events' | 'ui' | 'daemon'>;

/** A request's `_meta` envelope (the SDK types it as an open object). */
export type Envelope = Record<string, unknown>;

/** A retry's answers, keyed as the questions were. */
type InputResponses = ServerContext['mcpReq']['inputResponses'];

const envelopeOf = (ctx: ServerContext): Envelope | undefined => ctx.mcpReq.envelope;

/** Who asked, from the request's own `_meta` (there is no initialize to remember it from). */
/** The client a request names, and whether it shows Apps (it declares the extension, and is not of ui.linkClients). */
function callerOf(envelope: Envelope | undefined, daemon: ModernPorts['daemon']): Caller {
  const client = (envelope?.[CLIENT_INFO_META_KEY] as { name?: unknown } | undefined)?.name;
  const name = typeof client === 'string' ? client : undefined;
  return {
    caller: 'mcp-client',
    ...(name ? { client: name } : {}),
    ...(showsApps(capabilitiesOf(envelope)) && !daemon.linksOnly(name) ? { showsApps: true } : {}),
  };
}

/**
 * A request's log level (2026-07-28: only a request that names one gets log messages, and only
 * those at or above it) and where they go: the request that waits now.
 */
function loggingOf(envelope: Envelope | undefined, send: (method: string, params: Record<string, unknown>) => void) {
  const level = envelope?.[LOG_LEVEL_META_KEY] as LoggingLevel | undefined;
  if (level === undefined) return {};
  return {
    logLevel: level,
    onLog: (message: LogMessage) => {
      if (wanted(message.level, level)) send('notifications/message', message);
    },
  };
}

/** What one request of the SDK's server asks with: who, its cancel, its round, its log level. */
function askingOf(ctx: ServerContext, daemon: ModernPorts['daemon']): Asking & { signal: AbortSignal } {
  const envelope = envelopeOf(ctx);
  return {
    caller: callerOf(envelope, daemon),
    signal: ctx.mcpReq.signal,
    input: inputOfRequest(ctx),
    ...loggingOf(envelope, (method, params) => void ctx.mcpReq.notify({ method, params }).catch(() => undefined)),
  };
}

const capabilitiesOf = (envelope: Envelope | undefined) => (envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? {}) as Record<string, unknown>;

/**
 * What a retry's sealed requestState says: the parked call it goes on with (a 2025 upstream's
 * questions), or the state a 2026 upstream gave with its own questions (null: it gave none).
 */
export interface Resume {
  call?: string;
  relay?: string | null;
}

/** The calls waiting for their clients, and the seal on the state that names them. */
export interface Resumable {
  calls: ParkedCalls;
  codec: RequestStateCodec<Resume>;
}

/** The input-required result that puts `questions` to the client, naming the call in sealed state. */
async function askAgain(resumable: Resumable, call: ParkedCall, questions: Question[]) {
  return inputRequired({
    inputRequests: Object.fromEntries(questions.map((q) => [q.key, { method: q.method, params: q.params }])) as never,
    requestState: await resumable.codec.mint({ call: call.id }),
  });
}

const CAPABILITY_OF: Record<string, string> = {
  'elicitation/create': 'elicitation',
  'sampling/createMessage': 'sampling',
  'roots/list': 'roots',
};

/** The capabilities questions of these methods need that the request did not declare, if any. */
function undeclared(envelope: Envelope | undefined, methods: string[]): Record<string, object> | undefined {
  const declared = capabilitiesOf(envelope);
  const needed: Record<string, object> = {};
  for (const method of methods) {
    const capability = CAPABILITY_OF[method];
    if (capability && declared[capability] === undefined) needed[capability] = {};
  }
  return Object.keys(needed).length > 0 ? needed : undefined;
}

/** What a request hands a 2026 upstream: the client's answers, the upstream's state, what the client can answer. */
function inputOf(envelope: Envelope | undefined, inputResponses: InputResponses | undefined, state: Resume | undefined): InputRound {
  return {
    inputResponses,
    requestState: typeof state?.relay === 'string' ? state.relay : undefined,
    clientCapabilities: capabilitiesOf(envelope),
  };
}

const inputOfRequest = (ctx: ServerContext): InputRound =>
  inputOf(envelopeOf(ctx), ctx.mcpReq.inputResponses, ctx.mcpReq.requestState<Resume>());

/**
 * A 2026 upstream's questions, passed to the client as it asked them (its keys, its params); its
 * state travels inside mcpd's seal, and comes back to it with the client's answers.
 */
async function passOn(resumable: Resumable, envelope: Envelope | undefined, result: Record<string, unknown>) {
  const requests = (result['inputRequests'] ?? {}) as Record<string, { method?: unknown }>;
  const missing = undeclared(
    envelope,
    Object.values(requests).map((r) => String(r.method)),
  );
  if (missing) throw new MissingRequiredClientCapabilityError({ requiredCapabilities: missing });
  const state = typeof result['requestState'] === 'string' ? result['requestState'] : null;
  // The upstream's own name is not this endpoint's (the SDK gives mcpd's where this is absent).
  const { [SERVER_INFO_META_KEY]: _upstream, ...meta } = (result['_meta'] ?? {}) as Record<string, unknown>;
  return { ...result, _meta: meta, requestState: await resumable.codec.mint({ relay: state }) };
}

/** A tools/call as the 2026 path answers it, whether the SDK's server or the quick path took it. */
export interface ModernCall {
  name: string;
  arguments: Record<string, unknown> | undefined;
  envelope: Envelope | undefined;
  /** A retry's answers and its verified state (none on a first try). */
  inputResponses: InputResponses | undefined;
  state: Resume | undefined;
  progressToken: ProgressToken | undefined;
  /** Sends a notification (progress, a log message) on the request that waits now. */
  notify(method: string, params: Record<string, unknown>): void;
  signal: Cancellation;
}

/**
 * The call's result (complete, or input-required: the questions of a 2025 upstream put by mcpd,
 * or a 2026 upstream's own, passed on); what it throws is the request's error.
 */
export async function answerCall(
  ports: ModernPorts,
  view: EndpointView,
  resumable: Resumable,
  asked: ModernCall,
): Promise<Record<string, unknown>> {
  let call: ParkedCall;
  if (asked.state?.call !== undefined) {
    // A retry: its answers go to the parked call, which goes on.
    const parked = resumable.calls.get(asked.state.call);
    if (!parked)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        'This call is no longer waiting (it finished, or waited too long): call the tool again.',
      );
    call = parked;
    const open = call.answer(asked.inputResponses ?? {});
    if (open.length > 0) return await askAgain(resumable, call, open);
  } else {
    call = resumable.calls.create();
    const token = asked.progressToken;
    call.start((ask) =>
      callTool(ports, view, {
        name: asked.name,
        arguments: asked.arguments,
        caller: callerOf(asked.envelope, ports.daemon),
        // What the upstream asks is put to this client as input-required results.
        serverRequests: {
          elicit: async (params, signal) => (await ask('elicitation/create', params, signal)) as never,
          sample: async (params, signal) => (await ask('sampling/createMessage', params, signal)) as never,
        },
        signal: call.cancellation,
        // A 2026 upstream's questions come back as they are, for this client to answer.
        input: inputOf(asked.envelope, asked.inputResponses, asked.state),
        onProgress:
          token === undefined
            ? undefined
            : (progress: Progress) => call.notify?.('notifications/progress', { progressToken: token, ...progress }),
        ...loggingOf(asked.envelope, (method, params) => call.notify?.(method, params)),
      }),
    );
  }
  // Progress and log messages go to the request that waits now; the client leaving it cancels the call.
  call.notify = (method, params) => asked.notify(method, params);
  const forget = whenAborted(asked.signal, () => call.cancel(new Error('the client went away')));
  try {
    const next = await call.next();
    if (next.kind === 'questions') {
      const missing = undeclared(
        asked.envelope,
        next.questions.map((q) => q.method),
      );
      if (missing) {
        call.cancel(new Error('the client cannot answer what the server asks'));
        resumable.calls.delete(call);
        throw new MissingRequiredClientCapabilityError({ requiredCapabilities: missing });
      }
      return await askAgain(resumable, call, next.questions);
    }
    resumable.calls.delete(call);
    if (next.kind === 'error') throw next.error;
    return next.result['resultType'] === 'input_required' ? await passOn(resumable, asked.envelope, next.result) : next.result;
  } finally {
    forget();
    call.notify = undefined;
  }
}

/** Who answers, in every 2026 result's `_meta`. */
export const SERVER_INFO = { name: 'mcpd', version: VERSION };

/** One request's server: what the view holds, routed as for a 2025 session. */
function serverFor(ports: ModernPorts, view: EndpointView, resumable: Resumable): Server {
  const server = new Server(
    { ...SERVER_INFO },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true },
        prompts: { listChanged: true },
        completions: {},
        logging: {},
      },
      // A retry's requestState is checked before any handler runs: a forged one is refused (-32602).
      requestState: { verify: (state, ctx) => resumable.codec.verify(state, ctx) },
      instructions: view.instructions(),
    },
  );
  // A 2026 upstream's questions (input-required results, on any of the requests that may carry
  // them) go to the client as it asked them.
  const relayed = async (ctx: ServerContext, result: Record<string, unknown>) =>
    result['resultType'] === 'input_required' ? await passOn(resumable, envelopeOf(ctx), result) : result;
  server.setRequestHandler(
    'tools/list',
    async (_request, ctx) => ({ tools: await listTools(view, callerOf(envelopeOf(ctx), ports.daemon)) }) as never,
  );
  server.setRequestHandler(
    'tools/call',
    async (request, ctx) =>
      (await answerCall(ports, view, resumable, {
        name: request.params.name,
        arguments: request.params.arguments,
        envelope: envelopeOf(ctx),
        inputResponses: ctx.mcpReq.inputResponses,
        state: ctx.mcpReq.requestState<Resume>(),
        progressToken: ctx.mcpReq._meta?.progressToken,
        notify: (method, params) => void ctx.mcpReq.notify({ method, params }).catch(() => undefined),
        signal: ctx.mcpReq.signal,
      })) as never,
  );
  server.setRequestHandler('resources/list', async () => ({ resources: listResources(view) }) as never);
  server.setRequestHandler(
    'resources/templates/list',
    async (_request, ctx) => ({ resourceTemplates: await listTemplates(ports, view, ctx.mcpReq.signal) }) as never,
  );
  server.setRequestHandler(
    'resources/read',
    async (request, ctx) => (await relayed(ctx, await readResource(ports, view, request.params.uri, askingOf(ctx, ports.daemon)))) as never,
  );
  server.setRequestHandler('prompts/list', async () => ({ prompts: listPrompts(view) }) as never);
  server.setRequestHandler(
    'prompts/get',
    async (request, ctx) => (await relayed(ctx, await getPrompt(ports, view, request.params, askingOf(ctx, ports.daemon)))) as never,
  );
  server.setRequestHandler(
    'completion/complete',
    async (request, ctx) => (await complete(ports, view, request.params as never, askingOf(ctx, ports.daemon))) as never,
  );
  return server;
}

/** The 2026 handlers of a front's endpoints, made on first use, told of list changes, closed with the front. */
export class ModernEndpoints {
  private readonly handlers = new Map<string, { view: EndpointView; handler: McpHttpHandler }>();
  private readonly off: () => void;
  /** Sealed with a key of this daemon's run: a parked call does not outlive it either. */
  private readonly resumable: Resumable = {
    calls: new ParkedCalls(),
    codec: createRequestStateCodec<Resume>({ key: new Uint8Array(randomBytes(32)), ttlSeconds: 15 * 60 }),
  };

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

  /** A plain tools/call of the gateway's quick path (mcp-http/quick.ts): its result, or what it threw. */
  async call(
    view: EndpointView,
    asked: { name: string; arguments: Record<string, unknown> | undefined; envelope: Envelope },
    signal: Cancellation,
  ): Promise<{ result: Record<string, unknown> } | { error: unknown }> {
    try {
      const result = await answerCall(this.ports, view, this.resumable, {
        ...asked,
        inputResponses: undefined,
        state: undefined,
        progressToken: undefined,
        notify: () => undefined,
        signal,
      });
      return { result };
    } catch (error) {
      return { error };
    }
  }

  /** A server for one 2026 connection or request over `view` (the bridge's socket pins one per connection). */
  server(view: EndpointView): Server {
    return serverFor(this.ports, view, this.resumable);
  }

  /** The handler of one endpoint (`path`, seen through `view`). */
  handler(path: string, view: EndpointView): McpHttpHandler {
    let entry = this.handlers.get(path);
    if (!entry) {
      const handler = createMcpHandler(() => serverFor(this.ports, view, this.resumable), {
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
    this.resumable.calls.closeAll(new Error('the daemon is stopping'));
    await Promise.allSettled([...this.handlers.values()].map((h) => h.handler.close()));
    this.handlers.clear();
  }
}
