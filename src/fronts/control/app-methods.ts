/**
 * The control methods of MCP Apps (`apps.*`, docs/control-protocol.md): what the dashboard asks
 * for an App it shows, each request naming its view, and kept to that view's server. Also how a
 * `tools.call` result of a tool with an App gets its view and link.
 */
import { McpdError, errorMessage } from '../../errors.js';
import type { ChatWatcher, Ports } from '../../ports/index.js';
import { AppDocumentError, appDocumentOf, appLinkLine } from '../../protocol/apps.js';
import type { CallToolResultJson } from '../../protocol/calls.js';
import { APP_APPROVE_REQUEST, type MethodName } from '../../protocol/control.js';
import type { AppViewEntry, LogLevel } from '../../protocol/types.js';
import { QUESTION_TIMEOUT_MS, type Method } from './method.js';
import { optObject, optStr, str, type Params } from './params.js';
import type { ControlConnection } from './server.js';

export type AppPorts = Pick<Ports, 'daemon' | 'catalogue' | 'calls' | 'chat' | 'logs' | 'ui' | 'apps'>;

type AppMethodName = Extract<MethodName, `apps.${string}`>;

/** An App's MCP log levels in mcpd's log (the rest are errors). */
const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', notice: 'info', warning: 'warn' };

export function createAppMethods(
  { daemon, catalogue, calls, chat, logs, ui, apps }: AppPorts,
  { work, watcherOf }: { work: (fn: Method) => Method; watcherOf: (connection: ControlConnection) => ChatWatcher },
): {
  methods: Record<AppMethodName, Method>;
  withApp: (result: CallToolResultJson, view: string, showsApps: boolean) => Promise<CallToolResultJson>;
} {
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

  const methods: Record<AppMethodName, Method> = {
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
  };
  return { methods, withApp };
}
