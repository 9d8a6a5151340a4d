/**
 * The control methods (docs/control-protocol.md), each a thin call into the port of the part that
 * owns it. Parameters are checked here; a new method is one entry in `methods`.
 */
import { ElicitResultSchema, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { McpdError, errorMessage, isMcpdError } from '../../errors.js';
import type { LazyAbort } from '../../hotpath/lazy-abort.js';
import type { ChatWatcher, Ports, SamplingAsk } from '../../ports/index.js';
import type { Progress, ServerRequestHandler } from '../../protocol/calls.js';
import {
  APP_APPROVE_REQUEST,
  APP_SCOPED_METHODS,
  ELICIT_REQUEST,
  EVENT_NAMES,
  PROTOCOL_VERSION,
  SAMPLE_REQUEST,
  type MethodName,
} from '../../protocol/control.js';
import { AppDocumentError, appDocumentOf, appLinkLine } from '../../protocol/apps.js';
import type { CallToolResultJson } from '../../protocol/calls.js';
import type { AppViewEntry, LogLevel } from '../../protocol/types.js';
import { InvalidParams, MethodNotFound, object, optObject, optPositive, optStr, optTimeout, str, type Params } from './params.js';
import type { ControlConnection, RequestHandler } from './server.js';

/** How long a person has to answer a server's question during `mcpd call`. */
const QUESTION_TIMEOUT_MS = 10 * 60_000;

export type ControlPorts = Pick<
  Ports,
  'daemon' | 'servers' | 'ephemeral' | 'catalogue' | 'calls' | 'chat' | 'auth' | 'logs' | 'ui' | 'config' | 'apps'
>;

type Method = (params: Params, cancel: LazyAbort, connection: ControlConnection) => unknown;

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

  /** A view by its id: expired or unknown is MCPD_APP_VIEW_UNKNOWN. */
  const viewOf = (p: Params): AppViewEntry => {
    const view = apps.get(str(p, 'view'));
    if (!view)
      throw new McpdError(
        'MCPD_APP_VIEW_UNKNOWN',
        'This App view has expired (views last a day, and not past a daemon restart) or never was: call the tool again for a fresh one.',
      );
    return view;
  };

  /**
   * A result whose tool has an App: its view and link beside it, and, for a caller that does not
   * show Apps (`ui.appLinks`), the link as one line after the tool's own content.
   */
  const withApp = async (result: CallToolResultJson, view: string, showsApps: boolean) => {
    const url = await ui.appLink(view).catch(() => undefined);
    if (url === undefined) return result;
    const content = !showsApps && daemon.appLinks() ? [...result.content, { type: 'text', text: appLinkLine(url) }] : result.content;
    return { ...result, content, app: { view, url } };
  };

  // An App's calls follow chat.approval as the chat's do: a denied tool is refused, an asked one is
  // put to the person looking at the App ("always" holds for that view).
  const allowedViews = new Map<string, Set<string>>();
  const approveAppCall = async (view: AppViewEntry, name: string, args: unknown, connection: ControlConnection) => {
    const tool = (await catalogue.tools(view.server)).find((t) => t.originalName === name)?.name;
    if (tool === undefined) return; // not this server's: callFromApp refuses it
    const decision = chat.approvalFor(tool, view.sessionId);
    if (decision === 'allow' || allowedViews.get(view.id)?.has(tool)) return;
    if (decision === 'deny')
      throw new McpdError('MCPD_APP_REFUSED', `The App of ${view.tool} may not call ${tool}: chat.approval.deny forbids it.`, {
        server: view.server,
      });
    const answer = (await connection
      .request(APP_APPROVE_REQUEST, { view: view.id, tool, server: view.server, arguments: args ?? {} }, { timeoutMs: QUESTION_TIMEOUT_MS })
      .catch(() => undefined)) as { decision?: unknown } | undefined;
    if (answer?.decision === 'always') {
      if (allowedViews.size > 1_000) allowedViews.clear();
      allowedViews.set(view.id, new Set([...(allowedViews.get(view.id) ?? []), tool]));
    } else if (answer?.decision !== 'yes') {
      throw new McpdError(
        'MCPD_APP_REFUSED',
        `The App of ${view.tool} did not call ${tool}: chat.approval asks first, and the person said no.`,
        {
          server: view.server,
        },
      );
    }
  };

  const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', notice: 'info', warning: 'warn' };

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
    'apps.view': async (p) => ({ view: viewOf(p) }),
    'apps.document': work(async (p, cancel, connection) => {
      const view = viewOf(p);
      // A page showing an App is not idle, however long the App sits still.
      connection.hold();
      let document: ReturnType<typeof appDocumentOf>;
      try {
        const read = await calls.readResource(view.resourceUri, view.server, { signal: cancel, caller: 'app', app: view.server });
        const listed = catalogue.resources(view.server).find((r) => r.uri === view.resourceUri)?._meta;
        document = appDocumentOf(view.resourceUri, read, listed);
      } catch (error) {
        const why =
          error instanceof AppDocumentError ? error.message : `Its resource ${view.resourceUri} could not be read: ${errorMessage(error)}`;
        throw new McpdError('MCPD_APP_INVALID', `The App of ${view.tool} cannot be shown. ${why}`, { server: view.server });
      }
      const sandbox = await ui.sandbox(document.meta.csp, str(p, 'parent'));
      return { html: document.html, ...document.meta, sandbox: sandbox.url, dropped: sandbox.dropped };
    }),
    'apps.call': work(async (p, cancel, connection) => {
      const view = viewOf(p);
      const name = str(p, 'name');
      const args = optObject(p, 'arguments');
      await approveAppCall(view, name, args, connection);
      return calls.callFromApp(view.server, name, args, {
        signal: cancel,
        caller: 'app',
        app: view.server,
        ...(view.sessionId ? { sessionId: view.sessionId } : {}),
      });
    }),
    'apps.read': work(async (p, cancel) => {
      const view = viewOf(p);
      return calls.readResource(str(p, 'uri'), view.server, { signal: cancel, caller: 'app', app: view.server });
    }),
    'apps.log': async (p) => {
      const view = viewOf(p);
      const data = p['data'];
      const level = LEVELS[optStr(p, 'level') ?? 'info'] ?? 'error';
      logs.append(view.server, 'app', level, `[app] ${typeof data === 'string' ? data : JSON.stringify(data)}`.slice(0, 4_000));
      return {};
    },
    'apps.message': work(async (p, _cancel, connection) => {
      const view = viewOf(p);
      if (!view.sessionId)
        throw new McpdError(
          'MCPD_APP_REFUSED',
          `The App of ${view.tool} is not in a chat: its call came from outside one, so its message has nowhere to go.`,
          {
            server: view.server,
          },
        );
      const sessionId = view.sessionId;
      // The turn runs on its own (the App does not wait for Claude's answer); the chat's watchers see it.
      chat
        .send({ sessionId, message: str(p, 'text'), watcher: watcherOf(connection) })
        .catch((error: unknown) =>
          logs.append('chat', 'daemon', 'warn', `a message from the App of ${view.tool} failed: ${errorMessage(error)}`),
        );
      return { sessionId };
    }),
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
