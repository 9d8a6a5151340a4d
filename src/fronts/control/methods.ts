/**
 * The control methods (docs/control-protocol.md), each a thin call into the port of the part that
 * owns it. Parameters are checked here; a new method is one entry in `methods`.
 */
import { ElicitResultSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { McpdError, isMcpdError } from '../../errors.js';
import type { ChatWatcher, Ports, SamplingAsk } from '../../ports/index.js';
import type { Progress, ServerRequestHandler } from '../../protocol/calls.js';
import {
  APP_SCOPED_METHODS,
  ELICIT_REQUEST,
  EVENT_NAMES,
  PROTOCOL_VERSION,
  SAMPLE_REQUEST,
  type MethodName,
} from '../../protocol/control.js';
import { createAppMethods } from './app-methods.js';
import { QUESTION_TIMEOUT_MS, type Method } from './method.js';
import { InvalidParams, MethodNotFound, object, optObject, optPositive, optStr, optTimeout, str, type Params } from './params.js';
import type { ControlConnection, RequestHandler } from './server.js';

export type ControlPorts = Pick<
  Ports,
  'daemon' | 'servers' | 'ephemeral' | 'catalogue' | 'calls' | 'chat' | 'auth' | 'logs' | 'ui' | 'config' | 'apps'
>;

export function createHandlers({
  daemon,
  servers,
  ephemeral,
  catalogue,
  calls,
  chat,
  auth,
  logs,
  ui,
  config,
  apps,
}: ControlPorts): RequestHandler {
  const serverAction = async (action: 'start' | 'stop' | 'restart', name: string) => {
    daemon.assertOpen();
    return { server: await servers.act(name, action) };
  };

  /** A `server` filter must name a configured server (so a typo is an error, not an empty list). */
  const serverFilter = (p: Params): string | undefined => {
    const server = optStr(p, 'server');
    if (server !== undefined) servers.assertKnown(server);
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
      connection.onClose(() => chat.detach(created));
      watcher = created;
    }
    return watcher;
  };

  /** New work: refused once the daemon is stopping. */
  const work =
    (fn: Method): Method =>
    (params, cancel, connection) => {
      daemon.assertOpen();
      return fn(params, cancel, connection);
    };

  /** What a person at a terminal answers while their `mcpd call` runs. */
  const callerAnswers = (p: Params, tool: string, connection: ControlConnection): ServerRequestHandler => {
    const ask: SamplingAsk | undefined =
      p['canSample'] === true
        ? async (question, signal) => {
            const answer = (await connection.request(SAMPLE_REQUEST, question, { signal, timeoutMs: QUESTION_TIMEOUT_MS })) as {
              decision?: unknown;
            };
            return answer?.decision === 'yes' ? 'yes' : 'no';
          }
        : undefined;
    // Sampling is answered by the daemon with Claude, under chat.sampling; the person approves it when asked to.
    const sample = chat.sampler(tool, ask);
    return {
      ...(p['canElicit'] === true
        ? {
            elicit: async (params, signal) =>
              (await connection.request(ELICIT_REQUEST, params, { signal, timeoutMs: QUESTION_TIMEOUT_MS })) as ElicitResult,
          }
        : {}),
      ...(sample ? { sample } : {}),
    };
  };

  const { methods: appMethods, withApp } = createAppMethods({ daemon, catalogue, calls, chat, logs, ui, apps }, { work, watcherOf });

  // A handler gets its request's LazyAbort: `cancel.signal` makes an AbortSignal for what needs one.
  const methods: Record<MethodName, Method> = {
    hello: async (p) => {
      const version = p['protocolVersion'];
      if (version !== PROTOCOL_VERSION) {
        throw new McpdError(
          'MCPD_CONTROL_PROTOCOL',
          `Protocol version ${String(version)} is not supported; this daemon speaks ${PROTOCOL_VERSION}.`,
        );
      }
      return { protocolVersion: PROTOCOL_VERSION, daemon: { version: daemon.status().version, pid: process.pid }, events: EVENT_NAMES };
    },
    status: async () => daemon.status(),
    'servers.list': async () => ({ servers: daemon.status().servers }),
    'servers.start': (p) => serverAction('start', str(p, 'name')),
    'servers.stop': (p) => serverAction('stop', str(p, 'name')),
    'servers.restart': (p) => serverAction('restart', str(p, 'name')),
    'servers.attach': work(async (p, _cancel, connection) => {
      const server = await ephemeral.attach(str(p, 'ticket'), connection.id);
      // The server lives as long as the client that brought it.
      connection.hold();
      connection.onClose(() => void ephemeral.detach(server.name));
      return { server, tools: await catalogue.tools(server.name) };
    }),
    'servers.config': async (p) => ({ config: servers.maskedConfig(str(p, 'name')) }),
    'ui.open': work(() => ui.open()),
    'tools.list': async (p) => ({ tools: await catalogue.tools(serverFilter(p)) }),
    'tools.call': work(async (p, cancel, connection) => {
      const progressToken = optStr(p, 'progressToken');
      const tool = str(p, 'name');
      let view: string | undefined;
      const result = await calls.callTool(tool, optObject(p, 'arguments'), {
        signal: cancel,
        timeoutMs: optTimeout(p, 'timeoutMs'),
        caller: 'cli',
        ...(progressToken === undefined
          ? {}
          : { onProgress: (progress: Progress) => connection.notify('call:progress', { progressToken, ...progress }) }),
        serverRequests: callerAnswers(p, tool, connection),
        onAppView: (id) => (view = id),
      });
      return view === undefined ? result : withApp(result, view, p['showsApps'] === true);
    }),
    ...appMethods,
    'resources.list': async (p) => ({ resources: catalogue.resources(serverFilter(p)) }),
    'resources.read': work((p, cancel) => calls.readResource(str(p, 'uri'), optStr(p, 'server'), { signal: cancel, caller: 'cli' })),
    'prompts.list': async (p) => ({ prompts: catalogue.prompts(serverFilter(p)) }),
    'prompts.get': work((p, cancel) =>
      calls.getPrompt(str(p, 'name'), optObject(p, 'arguments') as Record<string, string> | undefined, { signal: cancel, caller: 'cli' }),
    ),
    'logs.read': async (p) => {
      const lines = optPositive(p, 'lines') ?? 100;
      const server = optStr(p, 'server');
      // A source is a server, or daemon, chat, plugin:NAME (once they logged something).
      if (server !== undefined && !logs.sources().includes(server)) servers.assertKnown(server);
      return { entries: logs.read(server, Math.min(Math.floor(lines), 10_000)) };
    },
    // Answered by the control server itself (they are per connection).
    'events.subscribe': async () => ({ subscribed: [] }),
    'events.unsubscribe': async () => ({ subscribed: [] }),
    'config.reload': () => daemon.reload(),
    'config.server': async (p) => config.entry(str(p, 'name')),
    'config.edit': work(async (p) => {
      const action = p['action'];
      if (action !== 'add' && action !== 'update' && action !== 'remove' && action !== 'enable' && action !== 'disable')
        throw new InvalidParams('params.action must be "add", "update", "remove", "enable" or "disable"');
      const entry = optObject(p, 'entry');
      return config.edit({ action, name: str(p, 'name'), ...(entry ? { entry } : {}), replace: p['replace'] === true });
    }),
    'chat.new': work((p) => chat.newSession(optStr(p, 'model'))),
    'chat.send': work((p, cancel, connection) => {
      const message = str(p, 'message');
      const sessionId = optStr(p, 'sessionId') ?? chat.newSession(optStr(p, 'model')).id;
      // A disconnect does not cancel the turn (closing a client never loses a chat); $/cancel does.
      cancel.onAbort(() => {
        if (!isMcpdError(cancel.reason, 'MCPD_CONTROL_CLOSED')) chat.cancel(sessionId);
      });
      return chat.send({
        sessionId,
        message,
        model: optStr(p, 'model'),
        watcher: watcherOf(connection),
        canApprove: p['canApprove'] === true,
      });
    }),
    'chat.cancel': async (p) => ({ cancelled: chat.cancel(str(p, 'sessionId')) }),
    'chat.attach': async (p, _signal, connection) => chat.attach(str(p, 'sessionId'), watcherOf(connection)),
    'chat.approve': async (p, _signal, connection) => {
      const decision = p['decision'];
      if (decision !== 'yes' && decision !== 'no' && decision !== 'always')
        throw new InvalidParams('params.decision must be "yes", "no" or "always"');
      return { ok: chat.approve(str(p, 'requestId'), decision, watcherOf(connection)) };
    },
    'chat.answer': async (p, _signal, connection) => {
      const parsed = ElicitResultSchema.safeParse(p['result']);
      if (!parsed.success) {
        throw new InvalidParams(
          'params.result must be an elicitation result: { action: "accept", content } | { action: "decline" } | { action: "cancel" }',
        );
      }
      return { ok: chat.answer(str(p, 'requestId'), parsed.data, watcherOf(connection)) };
    },
    'chat.sessions': async () => ({ sessions: chat.list() }),
    'chat.history': async (p) => {
      const id = str(p, 'sessionId');
      return { session: chat.summary(id), messages: chat.history(id) };
    },
    'chat.setModel': async (p) => chat.setModel(str(p, 'sessionId'), str(p, 'model')),
    'auth.list': async () => ({ servers: auth.list() }),
    'auth.login': work((p, cancel) => auth.signIn(str(p, 'server'), cancel.signal)),
    'auth.wait': async (p, cancel) => ({ server: await auth.waitSignIn(str(p, 'server'), cancel.signal) }),
    'auth.logout': async (p) => ({ server: await auth.signOut(str(p, 'server')) }),
    'daemon.stop': async () => {
      // Answer first, then stop: the client waits for the socket to close.
      setImmediate(() => void daemon.stop('mcpd stop'));
      return { stopping: true };
    },
  };

  const scoped = new Set<string>(APP_SCOPED_METHODS);
  return async (method, params, context, connection) => {
    const handler = Object.hasOwn(methods, method) ? methods[method as MethodName] : undefined;
    if (!handler) throw new MethodNotFound(`Method not found: ${method}`);
    const checked = object(params);
    // A connection an App link opened reaches its one view, nothing else of the daemon.
    if (connection.scope && (!scoped.has(method) || (method !== 'hello' && checked['view'] !== connection.scope.view)))
      throw new McpdError(
        'MCPD_APP_REFUSED',
        `This App view's connection may not use ${method}${method.startsWith('apps.') ? ' on another view' : ''}.`,
      );
    return handler(checked, context.cancel, connection);
  };
}
