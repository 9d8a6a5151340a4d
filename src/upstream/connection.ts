/**
 * One live connection to one server: for a local server its process (spawned by us) and an SDK
 * Client over its stdio; for a remote one the SDK's Streamable HTTP transport.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type Prompt,
  type Resource,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig, ServerConfig, StdioServerConfig } from '../config/types.js';
import type { LogStore } from '../logs/store.js';
import { ChildStdioTransport } from './stdio/transport.js';
import type { CallRelay } from '../hotpath/call-relay.js';
import { resolveCommand } from './stdio/command.js';
import { childEnvironment } from './stdio/env.js';
import { delay } from '../util/time.js';
import { ServerProcess, type ExitInfo } from './stdio/process.js';
import type { ServerRequestHandler } from '../supervisor/managed-server.js';
import { INSTANCE_VARIABLE, type ChildRegistry } from './stdio/reaper.js';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { ServerAuthProvider } from './http/auth/provider.js';
import { AuthStore } from './http/auth/store.js';
import { errorMessage } from '../errors.js';
import { hasCommandHeaders, httpStatus, looksLegacy, remoteTransport, resolveHeaders, type RemoteProtocol } from './http/remote.js';

export type ListKind = 'tools' | 'resources' | 'prompts';

export interface ServerLists {
  tools: Tool[];
  resources: Resource[];
  prompts: Prompt[];
}

export interface ConnectionHooks {
  /** Who answers the server's elicitation and sampling requests (see ManagedServer). */
  serverRequestTarget(kind: 'elicit' | 'sample'): { handler?: ServerRequestHandler; why?: string };
  /**
   * The connection ended on its own: the process exited (`exit` set), or for a local server its
   * stdout closed while it still ran, or the remote connection closed (`reason` says which).
   */
  onClosed(exit: ExitInfo | null, reason?: string): void;
  /** The server said one of its lists changed. */
  onListChanged(kind: ListKind): void;
  /** The server said a resource a client subscribed to changed. */
  onResourceUpdated(uri: string): void;
  onActivity(): void;
  onSkippedLine(): void;
}

export interface ConnectionDeps {
  logs: LogStore;
  /** Sign-ins of remote servers (OAuth tokens); a server with tokens connects with them. */
  authStore?: AuthStore;
  children: ChildRegistry;
  clientInfo: { name: string; version: string };
}

const MAX_PAGES = 100;
/** When stdout closes, how long to wait for the process's exit status, to name the cause. */
const EXIT_AFTER_CLOSE_GRACE_MS = 200;

export class Connection {
  private closing: Promise<void> | undefined;
  /** For a remote server, the transport it was reached with (shown in status). */
  remoteProtocol: RemoteProtocol | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly client: Client,
    /** A local server's stdio; a remote server's is made at initialize (it may take two tries). */
    private transport: Transport | undefined,
    readonly process: ServerProcess | null,
    private readonly deps: ConnectionDeps,
  ) {}

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  /** A local server's tool calls go beside the SDK's Client (hotpath/call-relay.ts); a remote one's through it. */
  get calls(): CallRelay | undefined {
    return this.transport instanceof ChildStdioTransport ? this.transport.calls : undefined;
  }

  /**
   * Spawns the process (a local server) and prepares the client; `initialize` connects. Owns what
   * it started from here on: `close()` stops it, whatever happens next.
   */
  static async open(config: ServerConfig, deps: ConnectionDeps, hooks: ConnectionHooks): Promise<Connection> {
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
    // The folders the config gives this server (servers.NAME.roots); none by default.
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: config.roots }));
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      const { handler, why } = hooks.serverRequestTarget('elicit');
      if (!handler?.elicit) {
        deps.logs.append(config.name, 'daemon', 'warn', `declined: ${why}`);
        return { action: 'decline' };
      }
      return handler.elicit(request.params, extra.signal, config.name);
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (request, extra) => {
      const { handler, why } = hooks.serverRequestTarget('sample');
      if (!handler?.sample) {
        deps.logs.append(config.name, 'daemon', 'warn', `declined: ${why}`);
        // A plain error with a code: an McpError's message carries an "MCP error N:" prefix that
        // the server's SDK would add a second time.
        throw Object.assign(new Error(`mcpd declined the sampling request: ${why}`), { code: ErrorCode.InvalidRequest });
      }
      return handler.sample(request.params, extra.signal, config.name);
    });
    if (config.transport !== 'stdio') {
      const connection = new Connection(config, client, undefined, null, deps);
      // Only a connection that was up reports closing (a failed try of the handshake does not).
      client.onclose = () => {
        if (connection.up) hooks.onClosed(null, 'the connection closed');
      };
      return connection;
    }
    const child = await Connection.spawn(config, deps);
    const transport = new ChildStdioTransport(child.stdin, child.stdout, {
      onActivity: hooks.onActivity,
      onSkippedLine: hooks.onSkippedLine,
    });
    void child.exited.then((exit) => {
      hooks.onClosed(exit);
      // In-flight requests fail now, not when a grandchild finally lets go of stdout.
      void transport.close();
      void child.sweepGroup().then(() => deps.children.remove(child.pid));
    });
    // The transport closed on its own while the process may still run (stdout closed, a message
    // over the limit): that is the server going away too. A process that is exiting says why.
    client.onclose = () => {
      const reason = transport.closeReason ?? 'its connection closed';
      void Promise.race([child.exited, delay(EXIT_AFTER_CLOSE_GRACE_MS).then(() => null)]).then((exit) =>
        hooks.onClosed(exit, exit ? undefined : reason),
      );
    };
    return new Connection(config, client, transport, child, deps);
  }

  private up = false;

  /** The MCP handshake; `signal` aborts it (the caller tears the connection down). */
  async initialize(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.config.transport === 'stdio') await this.client.connect(this.transport!, { timeout: timeoutMs, signal });
    else await this.connectRemote(this.config, timeoutMs, signal);
    this.up = true;
  }

  /**
   * Streamable HTTP or legacy SSE as the config says; with no "type", Streamable HTTP first and
   * SSE when the server answers the way the spec's backwards-compatibility section describes.
   * Headers from commands are run now, and once more on a 401 (the token may have rotated).
   */
  private async connectRemote(config: HttpServerConfig, timeoutMs: number, signal: AbortSignal): Promise<void> {
    let headers = await resolveHeaders(config, signal);
    // Signed in (mcpd auth NAME): the SDK sends the token, and refreshes it on a 401.
    const store = this.deps.authStore;
    const provider = store?.read(config.name, config.url)?.tokens ? new ServerAuthProvider(config, store!) : undefined;
    if (provider) this.scheduleRefresh(config, store!, provider);
    const attempt = async (protocol: RemoteProtocol) => {
      this.remoteProtocol = protocol;
      this.transport = remoteTransport(
        protocol,
        config.url,
        headers,
        provider
          ? { provider, onInsufficientScope: (scope) => store!.update(config.name, config.url, (r) => (r.wantedScope = scope)) }
          : undefined,
      );
      await this.client.connect(this.transport, { timeout: timeoutMs, signal });
    };
    const withFreshHeaders = async (protocol: RemoteProtocol) => {
      try {
        await attempt(protocol);
      } catch (error) {
        if (httpStatus(error) !== 401 || !hasCommandHeaders(config) || signal.aborted) throw error;
        headers = await resolveHeaders(config, signal);
        await attempt(protocol);
      }
    };
    if (config.protocol === 'sse') return withFreshHeaders('sse');
    try {
      await withFreshHeaders('streamable-http');
    } catch (error) {
      if (config.protocol !== 'auto' || !looksLegacy(error) || signal.aborted) throw error;
      this.deps.logs.append(
        config.name,
        'daemon',
        'info',
        `Streamable HTTP answered ${httpStatus(error) ?? 'with another content type'}; trying the legacy SSE transport (set "type" to skip this)`,
      );
      await withFreshHeaders('sse');
    }
  }

  private static async spawn(config: StdioServerConfig, deps: ConnectionDeps): Promise<ServerProcess> {
    // The marker lets a later daemon tell this process from an unrelated one before reaping it.
    const env: Record<string, string> = { ...childEnvironment(config.env), [INSTANCE_VARIABLE]: deps.children.instance };
    const command = resolveCommand(config.name, config.command, config.cwd, env['PATH']);
    const child = await ServerProcess.spawn({ server: config.name, command, args: config.args, cwd: config.cwd, env });
    deps.children.add(child.pid, config.name);
    pipeLines(child.stderr, (line) => deps.logs.append(config.name, 'stderr', 'info', line));
    deps.logs.append(config.name, 'daemon', 'debug', `spawned ${config.command} ${config.args.join(' ')} (pid ${child.pid})`);
    return child;
  }

  /** Lists one kind in full (following cursors); empty when the server lacks the capability. */
  async list(kind: ListKind, timeoutMs: number, signal?: AbortSignal): Promise<Tool[] | Resource[] | Prompt[]> {
    const capabilities = this.client.getServerCapabilities() ?? {};
    if (!capabilities[kind]) return [];
    const options = { timeout: timeoutMs, ...(signal ? { signal } : {}) };
    const items: (Tool | Resource | Prompt)[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const params = cursor === undefined ? {} : { cursor };
      const result =
        kind === 'tools'
          ? await this.client.listTools(params, options)
          : kind === 'resources'
            ? await this.client.listResources(params, options)
            : await this.client.listPrompts(params, options);
      items.push(
        ...(kind === 'tools'
          ? (result as { tools: Tool[] }).tools
          : kind === 'resources'
            ? (result as { resources: Resource[] }).resources
            : (result as { prompts: Prompt[] }).prompts),
      );
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    return items as Tool[] | Resource[] | Prompt[];
  }

  async listAll(timeoutMs: number, signal?: AbortSignal): Promise<ServerLists> {
    const [tools, resources, prompts] = await Promise.all([
      this.list('tools', timeoutMs, signal),
      this.list('resources', timeoutMs, signal),
      this.list('prompts', timeoutMs, signal),
    ]);
    return { tools: tools as Tool[], resources: resources as Resource[], prompts: prompts as Prompt[] };
  }

  /** A wider scope the server asked for (403 insufficient_scope) since the last sign-in. */
  wantedScope(): string | undefined {
    return this.config.transport === 'http' ? this.deps.authStore?.read(this.config.name, this.config.url)?.wantedScope : undefined;
  }

  /** Refreshes the token a minute before it expires (a refresh token is needed), while connected. */
  private scheduleRefresh(config: HttpServerConfig, store: AuthStore, provider: ServerAuthProvider): void {
    clearTimeout(this.refreshTimer);
    const record = store.read(config.name, config.url);
    const expiresAt = AuthStore.expiresAt(record);
    if (expiresAt === undefined || !record?.tokens?.refresh_token || this.closing) return;
    // A minute early, or halfway through a shorter life.
    const lead = Math.min(60_000, ((record.tokens.expires_in ?? 0) * 1000) / 2);
    const inMs = Math.min(Math.max(expiresAt - Date.now() - lead, 1_000), 2 ** 31 - 1);
    this.refreshTimer = setTimeout(() => {
      void auth(provider, { serverUrl: config.url, fetchFn: fetch })
        .then(() => {
          this.deps.logs.append(config.name, 'daemon', 'info', 'refreshed the OAuth access token before it expired');
          this.scheduleRefresh(config, store, provider);
        })
        // The next 401 tries again, and asks for a sign-in if that fails too.
        .catch((error: unknown) =>
          this.deps.logs.append(config.name, 'daemon', 'warn', `could not refresh the OAuth access token: ${errorMessage(error)}`),
        );
    }, inMs);
    this.refreshTimer.unref();
  }

  /**
   * Closes the client first, so that calls in flight fail now rather than after the process is
   * gone, then stops the process group with the full escalation. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.refreshTimer);
      this.client.onclose = undefined;
      await this.client.close().catch(() => undefined);
      if (this.process) {
        await this.process.stop();
        this.deps.children.remove(this.process.pid);
      }
    })();
    return this.closing;
  }
}

/** Splits a byte stream into lines (the last partial line is flushed at the end). */
export function pipeLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void, maxLine = 64 * 1024): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    partial += chunk;
    let index: number;
    while ((index = partial.indexOf('\n')) !== -1) {
      onLine(partial.slice(0, index).replace(/\r$/, ''));
      partial = partial.slice(index + 1);
    }
    if (partial.length > maxLine) {
      onLine(partial);
      partial = '';
    }
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
  stream.on('error', () => undefined);
}
