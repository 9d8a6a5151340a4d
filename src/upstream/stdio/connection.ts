/**
 * A local server: its process (spawned by us, in a group of its own) and the SDK's Client over
 * its stdio. Tool calls go beside the Client, through the call relay (hotpath/call-relay.ts).
 */
import { ErrorCode as McpErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { StdioServerConfig } from '../../config/types.js';
import { within } from '../../util/time.js';
import { SdkUpstream } from '../sdk-upstream.js';
import type { UpstreamCallOptions, UpstreamDeps, UpstreamHooks } from '../types.js';
import type { ServerProcess } from './process.js';
import { ChildStdioTransport } from './transport.js';

/** When stdout closes, how long to wait for the process's exit status, to name the cause. */
const EXIT_AFTER_CLOSE_GRACE_MS = 200;

/** The same check as the SDK path's, for a result that came through the call relay. */
function checkRelayed(result: unknown): CallToolResult {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new McpError(McpErrorCode.InvalidParams, 'a tool result must be an object');
  }
  return result as CallToolResult;
}

export class StdioUpstream extends SdkUpstream {
  readonly transport = 'stdio' as const;
  private closing: Promise<void> | undefined;

  private constructor(
    override readonly config: StdioServerConfig,
    deps: UpstreamDeps,
    hooks: UpstreamHooks,
    private readonly process: ServerProcess,
    private readonly stdio: ChildStdioTransport,
  ) {
    super(config, deps, hooks);
    // The transport closed on its own while the process may still run (stdout closed, a message
    // over the limit): that is the server going away too. A process that is exiting says why.
    this.client.onclose = () => {
      const reason = stdio.closeReason ?? 'its connection closed';
      void within(process.exited, EXIT_AFTER_CLOSE_GRACE_MS).then((exit) => hooks.onClosed(exit ?? null, exit ? undefined : reason));
    };
  }

  get pid(): number {
    return this.process.pid;
  }

  private async exitedSoon(): Promise<boolean> {
    return (await within(this.process.exited, EXIT_AFTER_CLOSE_GRACE_MS)) !== undefined;
  }

  override closeReason(): string | undefined {
    return this.stdio.closeReason;
  }

  /** Over a process spawnServer started; `initialize` connects. Owns the process from here on: `close()` stops it. */
  static open(config: StdioServerConfig, deps: UpstreamDeps, hooks: UpstreamHooks, child: ServerProcess): StdioUpstream {
    const stdio = new ChildStdioTransport(child.stdin, child.stdout, {
      pid: child.pid,
      onActivity: () => hooks.onActivity(),
      onSkippedLine: () => hooks.onSkippedLine(),
    });
    void child.exited.then((exit) => {
      hooks.onClosed(exit);
      // In-flight requests fail now, not when a grandchild finally lets go of stdout.
      void stdio.close();
      void child.sweepGroup().then(() => deps.children.remove(child.pid));
    });
    return new StdioUpstream(config, deps, hooks, child, stdio);
  }

  /**
   * `auto`: the client probes with `server/discover` and falls back to `initialize`. A server that
   * exits on the probe (some SDKs end on any request before `initialize`) is one of 2025: its
   * next start goes straight to `initialize`.
   */
  async initialize(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const name = this.config.name;
    const legacy = this.config.protocol === 'auto' && this.deps.legacyOnly?.has(name);
    try {
      await this.connectClient(this.stdio, timeoutMs, signal, legacy ? { kind: 'legacy' } : undefined);
    } catch (error) {
      if (this.config.protocol === 'auto' && !legacy && this.protocolVersion() === undefined && (await this.exitedSoon())) {
        this.deps.legacyOnly?.add(name);
        this.deps.logs.append(
          name,
          'daemon',
          'info',
          'it exited on the server/discover probe; its next start speaks 2025-11-25 (initialize) at once',
        );
      }
      throw error;
    }
  }

  /**
   * Relayed beside the SDK's Client: the server's result is passed on as it came, with no schema
   * parse of every content block, only the shape the daemon relies on.
   */
  override async callTool(name: string, args: Record<string, unknown> | undefined, options: UpstreamCallOptions): Promise<CallToolResult> {
    // At 2026-07-28 a call carries the client's _meta and may come back input-required: the
    // SDK's Client does both.
    // So does a tool its server runs only as a task (see SdkUpstream).
    if (this.modern() || options.asTask) return super.callTool(name, args, options);
    const params = { name, ...(args === undefined ? {} : { arguments: args }) };
    return this.logging(options, async () => checkRelayed(await this.stdio.calls.request('tools/call', params, options)));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.client.onclose = undefined;
      await this.client.close().catch(() => undefined);
      await this.process.stop();
      this.deps.children.remove(this.process.pid);
    })();
    return this.closing;
  }
}
