/**
 * One live connection to one server: for a local server its process (spawned by us) and an SDK
 * Client over its stdio; for a remote one the SDK's Streamable HTTP transport.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  LoggingMessageNotificationSchema,
  type Prompt,
  type Resource,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig, StdioServerConfig } from '../config/types.js';
import type { LogStore } from '../logs/store.js';
import { ChildStdioTransport } from '../transport/child-stdio.js';
import { resolveCommand } from './command.js';
import { childEnvironment } from './env.js';
import { ServerProcess, type ExitInfo } from './process.js';
import type { ChildRegistry } from './reaper.js';

export type ListKind = 'tools' | 'resources' | 'prompts';

export interface ServerLists {
  tools: Tool[];
  resources: Resource[];
  prompts: Prompt[];
}

export interface ConnectionHooks {
  /** The process exited (local servers) or the connection closed (remote). */
  onClosed(exit: ExitInfo | null): void;
  /** The server said one of its lists changed. */
  onListChanged(kind: ListKind): void;
  onActivity(): void;
  onSkippedLine(): void;
}

export interface ConnectionDeps {
  logs: LogStore;
  children: ChildRegistry;
  clientInfo: { name: string; version: string };
}

const MAX_PAGES = 100;

export class Connection {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly client: Client,
    readonly process: ServerProcess | null,
    private readonly deps: ConnectionDeps,
  ) {}

  get pid(): number | null {
    return this.process?.pid ?? null;
  }

  /** Spawns (if local) and initializes. On failure everything it started is stopped again. */
  static async open(config: ServerConfig, deps: ConnectionDeps, hooks: ConnectionHooks, signal: AbortSignal): Promise<Connection> {
    const client = new Client(deps.clientInfo, {
      capabilities: {},
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
      deps.logs.append(config.name, 'mcp', mapped, logger ? `[${logger}] ${text}` : text);
    });
    let transport: Transport;
    let child: ServerProcess | null = null;
    if (config.transport === 'stdio') {
      child = await Connection.spawn(config, deps);
      transport = new ChildStdioTransport(child.stdin, child.stdout, {
        onActivity: hooks.onActivity,
        onSkippedLine: hooks.onSkippedLine,
      });
      const exitingChild = child;
      void child.exited.then((exit) => {
        hooks.onClosed(exit);
        // In-flight requests fail now, not when a grandchild finally lets go of stdout.
        void transport.close();
        void exitingChild.sweepGroup().then(() => deps.children.remove(exitingChild.pid));
      });
    } else {
      transport = new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
    }
    const connection = new Connection(config, client, child, deps);
    if (config.transport === 'http') {
      client.onclose = () => hooks.onClosed(null);
    }
    try {
      await client.connect(transport, { timeout: config.timeouts.startupMs, signal });
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  private static async spawn(config: StdioServerConfig, deps: ConnectionDeps): Promise<ServerProcess> {
    const env = childEnvironment(config.env);
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
      items.push(...(kind === 'tools' ? (result as { tools: Tool[] }).tools : kind === 'resources' ? (result as { resources: Resource[] }).resources : (result as { prompts: Prompt[] }).prompts));
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

  /** Closes the client, then stops the process group with the full escalation. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.client.onclose = undefined;
      // Stop the process first: closing the client would close our end of stdin for it anyway.
      if (this.process) {
        await this.process.stop();
        this.deps.children.remove(this.process.pid);
      }
      await this.client.close().catch(() => undefined);
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
