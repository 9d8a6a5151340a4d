/** The control methods, each a thin call into the daemon host. Parameters are checked here. */
import type { ChatWatcher } from '../../chat/service.js';
import type { RpcErrorObject } from '../../protocol/jsonrpc.js';
import { ElicitResultSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { samplingPreview } from '../../chat/sampling.js';
import {
  ELICIT_REQUEST,
  JSONRPC_ERRORS,
  PROTOCOL_VERSION,
  SAMPLE_REQUEST,
  type MethodName,
  type SampleRequestParams,
} from '../../protocol/control.js';
import { McpdError, isMcpdError } from '../../errors.js';
import type { ApprovalDecision } from '../../protocol/types.js';
import type { LazyAbort } from '../../hotpath/lazy-abort.js';
import { MAX_TIMER_MS } from '../../util/limits.js';
import type { ServerRequestHandler } from '../../supervisor/managed-server.js';
import type { DaemonHost } from '../host.js';
import type { ControlConnection, RequestHandler } from './server.js';

class InvalidParams extends Error {}

/** How long a person has to answer a server's question during `mcpd call`. */
const ELICIT_TIMEOUT_MS = 10 * 60_000;
class MethodNotFound extends Error {}

function object(params: unknown): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== 'object' || Array.isArray(params)) throw new InvalidParams('params must be an object');
  return params as Record<string, unknown>;
}

function str(params: Record<string, unknown>, key: string): string {
  const value = params[key];
  if (typeof value !== 'string' || value === '') throw new InvalidParams(`params.${key} must be a non-empty string`);
  return value;
}

function optStr(params: Record<string, unknown>, key: string): string | undefined {
  if (params[key] === undefined) return undefined;
  return str(params, key);
}

function optObject(params: Record<string, unknown>, key: string): Record<string, unknown> | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidParams(`params.${key} must be an object`);
  return value as Record<string, unknown>;
}

function optPositive(params: Record<string, unknown>, key: string): number | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidParams(`params.${key} must be a positive number`);
  return value;
}

/** A duration Node's timers can hold (below 2^31 ms, about 24.8 days). */
function optTimeout(params: Record<string, unknown>, key: string): number | undefined {
  const value = optPositive(params, key);
  if (value !== undefined && value > MAX_TIMER_MS)
    throw new InvalidParams(`params.${key} must be at most ${MAX_TIMER_MS} (about 24.8 days)`);
  return value;
}

export function toRpcError(error: unknown): RpcErrorObject {
  if (error instanceof MethodNotFound) return { code: JSONRPC_ERRORS.METHOD_NOT_FOUND, message: error.message };
  if (error instanceof InvalidParams) return { code: JSONRPC_ERRORS.INVALID_PARAMS, message: `Invalid params: ${error.message}` };
  if (isMcpdError(error)) {
    return {
      code: error.code === 'MCPD_CONTROL_PROTOCOL' ? JSONRPC_ERRORS.INVALID_REQUEST : JSONRPC_ERRORS.MCPD_ERROR,
      message: error.message,
      data: { code: error.code, ...(error.server ? { server: error.server } : {}), ...(error.details ? { details: error.details } : {}) },
    };
  }
  return {
    code: JSONRPC_ERRORS.INTERNAL_ERROR,
    message: `Internal error: ${(error as Error)?.message ?? String(error)}`,
    data: { code: 'MCPD_INTERNAL' },
  };
}

export function createHandlers(daemon: DaemonHost): RequestHandler {
  const serverAction = async (action: 'start' | 'stop' | 'restart', name: string) => {
    daemon.assertOpen();
    return { server: await daemon.serverAction(name, action) };
  };

  /** A `server` filter must name a configured server (so a typo is an error, not an empty list). */
  const serverFilter = (p: Record<string, unknown>): string | undefined => {
    const server = optStr(p, 'server');
    if (server !== undefined) daemon.assertServer(server);
    return server;
  };

  // One chat watcher per connection, detached when it closes (a running turn goes on).
  const watchers = new WeakMap<ControlConnection, ChatWatcher>();
  const watcherOf = (connection: ControlConnection): ChatWatcher => {
    let watcher = watchers.get(connection);
    if (!watcher) {
      const created: ChatWatcher = { id: connection.id, send: (event) => connection.notify('chat:event', event) };
      watchers.set(connection, created);
      connection.hold(); // watching a chat is not idling
      connection.onClose(() => daemon.chat.detach(created));
      watcher = created;
    }
    return watcher;
  };

  /** New work: refused once the daemon is stopping. */
  const work =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R> | R) =>
    (...args: A): Promise<R> | R => {
      daemon.assertOpen();
      return fn(...args);
    };

  // A handler gets its request's LazyAbort: `cancel.signal` makes an AbortSignal for what needs one.
  const methods: Record<MethodName, (params: Record<string, unknown>, cancel: LazyAbort, connection: ControlConnection) => unknown> = {
    hello: async (p) => {
      const version = p['protocolVersion'];
      if (version !== PROTOCOL_VERSION) {
        throw new McpdError(
          'MCPD_CONTROL_PROTOCOL',
          `Protocol version ${String(version)} is not supported; this daemon speaks ${PROTOCOL_VERSION}.`,
        );
      }
      return { protocolVersion: PROTOCOL_VERSION, daemon: { version: daemon.status().version, pid: process.pid } };
    },
    status: async () => daemon.status(),
    'servers.list': async () => ({ servers: daemon.status().servers }),
    'servers.start': (p) => serverAction('start', str(p, 'name')),
    'servers.stop': (p) => serverAction('stop', str(p, 'name')),
    'servers.restart': (p) => serverAction('restart', str(p, 'name')),
    'servers.config': async (p) => ({ config: daemon.serverConfig(str(p, 'name')) }),
    'ui.open': () => daemon.openUi(),
    'tools.list': async (p) => ({ tools: await daemon.tools(serverFilter(p)) }),
    'tools.call': work((p: Record<string, unknown>, cancel: LazyAbort, connection: ControlConnection) => {
      const progressToken = optStr(p, 'progressToken');
      const tool = str(p, 'name');
      const serverRequests: ServerRequestHandler = {
        // A person at a terminal answers what the server asks during the call.
        ...(p['canElicit'] === true
          ? {
              elicit: async (params, elicitSignal) =>
                (await connection.request(ELICIT_REQUEST, params, { signal: elicitSignal, timeoutMs: ELICIT_TIMEOUT_MS })) as ElicitResult,
            }
          : {}),
        // Sampling is answered by the daemon with Claude, under chat.sampling; the person approves it when asked to.
        ...(p['canSample'] === true || daemon.chat.samplingRule === 'allow'
          ? ({
              sample: async (params, sampleSignal, server) => {
                const question: SampleRequestParams = {
                  server,
                  tool,
                  preview: samplingPreview(params),
                  ...(params.systemPrompt ? { systemPrompt: params.systemPrompt } : {}),
                  maxTokens: params.maxTokens,
                };
                const ask =
                  p['canSample'] === true
                    ? async () => {
                        const answer = (await connection.request(SAMPLE_REQUEST, question, {
                          signal: sampleSignal,
                          timeoutMs: ELICIT_TIMEOUT_MS,
                        })) as { decision?: unknown };
                        return answer?.decision === 'yes' ? ('yes' as const) : ('no' as const);
                      }
                    : undefined;
                return (await daemon.chat.sample(params, { server, signal: sampleSignal, ask })).result;
              },
            } satisfies ServerRequestHandler)
          : {}),
      };
      return daemon.callTool(tool, optObject(p, 'arguments'), {
        signal: cancel,
        timeoutMs: optTimeout(p, 'timeoutMs'),
        caller: 'cli',
        ...(progressToken === undefined
          ? {}
          : {
              onProgress: (progress: { progress: number; total?: number; message?: string }) =>
                connection.notify('call:progress', { progressToken, ...progress }),
            }),
        serverRequests,
      });
    }),
    'resources.list': async (p) => ({ resources: daemon.resources(serverFilter(p)) }),
    'resources.read': work((p: Record<string, unknown>, cancel: LazyAbort) =>
      daemon.readResource(str(p, 'uri'), optStr(p, 'server'), { signal: cancel, caller: 'cli' }),
    ),
    'prompts.list': async (p) => ({ prompts: daemon.prompts(serverFilter(p)) }),
    'prompts.get': work((p: Record<string, unknown>, cancel: LazyAbort) =>
      daemon.getPrompt(str(p, 'name'), optObject(p, 'arguments') as Record<string, string> | undefined, { signal: cancel, caller: 'cli' }),
    ),
    'logs.read': async (p) => {
      const lines = optPositive(p, 'lines') ?? 100;
      const server = optStr(p, 'server');
      // A source is a server, or daemon, chat, plugin:NAME (once they logged something).
      if (server !== undefined && !daemon.logSources().includes(server)) daemon.assertServer(server);
      return { entries: daemon.readLogs(server, Math.min(Math.floor(lines), 10_000)) };
    },
    // Answered by the control server itself (they are per connection).
    'events.subscribe': async () => ({ subscribed: [] }),
    'events.unsubscribe': async () => ({ subscribed: [] }),
    'config.reload': () => daemon.reload(),
    'chat.new': work((p: Record<string, unknown>) => daemon.chat.newSession(optStr(p, 'model'))),
    'chat.send': async (p, cancel, connection) => {
      daemon.assertOpen();
      const message = str(p, 'message');
      const sessionId = optStr(p, 'sessionId') ?? daemon.chat.newSession(optStr(p, 'model')).id;
      // A disconnect does not cancel the turn (closing a client never loses a chat); $/cancel does.
      cancel.onAbort(() => {
        if (!isMcpdError(cancel.reason, 'MCPD_CONTROL_CLOSED')) daemon.chat.cancel(sessionId);
      });
      return daemon.chat.send({
        sessionId,
        message,
        model: optStr(p, 'model'),
        watcher: watcherOf(connection),
        canApprove: p['canApprove'] === true,
      });
    },
    'chat.cancel': async (p) => ({ cancelled: daemon.chat.cancel(str(p, 'sessionId')) }),
    'chat.attach': async (p, _signal, connection) => daemon.chat.attach(str(p, 'sessionId'), watcherOf(connection)),
    'chat.approve': async (p, _signal, connection) => {
      const decision = p['decision'];
      if (decision !== 'yes' && decision !== 'no' && decision !== 'always')
        throw new InvalidParams('params.decision must be "yes", "no" or "always"');
      return { ok: daemon.chat.approve(str(p, 'requestId'), decision as ApprovalDecision, watcherOf(connection)) };
    },
    'chat.answer': async (p, _signal, connection) => {
      const parsed = ElicitResultSchema.safeParse(p['result']);
      if (!parsed.success)
        throw new InvalidParams(
          'params.result must be an elicitation result: { action: "accept", content } | { action: "decline" } | { action: "cancel" }',
        );
      return { ok: daemon.chat.answer(str(p, 'requestId'), parsed.data, watcherOf(connection)) };
    },
    'chat.sessions': async () => ({ sessions: daemon.chat.list() }),
    'auth.list': async () => ({ servers: daemon.authStatus() }),
    'auth.login': (p, cancel) => daemon.signIn(str(p, 'server'), cancel.signal),
    'auth.wait': async (p, cancel) => ({ server: await daemon.waitSignIn(str(p, 'server'), cancel.signal) }),
    'auth.logout': async (p) => ({ server: await daemon.signOut(str(p, 'server')) }),
    'chat.history': async (p) => {
      const id = str(p, 'sessionId');
      return { session: daemon.chat.summary(id), messages: daemon.chat.history(id) };
    },
    'chat.setModel': async (p) => daemon.chat.setModel(str(p, 'sessionId'), str(p, 'model')),
    'daemon.stop': async () => {
      // Answer first, then stop: the client waits for the socket to close.
      setImmediate(() => void daemon.stop('mcpd stop'));
      return { stopping: true };
    },
  };

  return async (method, params, context, connection) => {
    const handler = Object.hasOwn(methods, method) ? methods[method as MethodName] : undefined;
    if (!handler) throw new MethodNotFound(`Method not found: ${method}`);
    return handler(object(params), context.cancel, connection);
  };
}
