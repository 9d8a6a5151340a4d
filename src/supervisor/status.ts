/** One server's status as `mcpd status` and the dashboard show it, from what its lifecycle knows. */
import type { ServerConfig } from '../config/types.js';
import type { McpdError } from '../errors.js';
import type { ServerState, ServerStatus } from '../protocol/types.js';
import type { ServerLists, Upstream, UpstreamTransport } from '../upstream/types.js';
import type { Remembered } from './memory.js';

export interface StatusFacts {
  config: ServerConfig;
  state: ServerState;
  upstream: Upstream | undefined;
  /** How a remote server was last reached (kept while it is down). */
  lastTransport: UpstreamTransport | undefined;
  runningSince: number | undefined;
  restarts: number;
  lists: ServerLists;
  lastError: McpdError | null;
  retryAt: number | undefined;
  skippedLines: number;
  /** What it reported when it last ran: shown while it is idle. */
  remembered: Remembered | undefined;
  lastRanAt: number | undefined;
}

export function serverStatus(facts: StatusFacts): ServerStatus {
  const { config, state, upstream, lastError } = facts;
  const info = upstream?.serverInfo() ?? (state === 'idle' ? facts.remembered?.serverInfo : undefined);
  return {
    name: config.name,
    // A remote server shows the transport it was reached with (Streamable HTTP or legacy SSE).
    transport: config.transport === 'stdio' ? 'stdio' : (upstream?.transport ?? facts.lastTransport) === 'sse' ? 'sse' : 'http',
    state,
    pid: state === 'running' || state === 'starting' ? (upstream?.pid ?? null) : null,
    runningSince: state === 'running' && facts.runningSince ? new Date(facts.runningSince).toISOString() : null,
    start: config.start,
    lastRanAt: state !== 'running' && facts.lastRanAt ? new Date(facts.lastRanAt).toISOString() : null,
    restarts: facts.restarts,
    toolCount: facts.lists.tools.length,
    resourceCount: facts.lists.resources.length,
    promptCount: facts.lists.prompts.length,
    lastError: lastError
      ? { code: lastError.code, message: lastError.message, ...(lastError.details ? { details: lastError.details } : {}) }
      : null,
    nextRetryMs: state === 'backoff' && facts.retryAt ? Math.max(0, facts.retryAt - Date.now()) : null,
    skippedStdoutLines: facts.skippedLines,
    serverInfo: info ? { name: info.name, version: info.version } : null,
    // Idle: the revision it spoke when it last ran (a wake negotiates afresh).
    protocolVersion: (info && upstream?.protocolVersion()) ?? (state === 'idle' ? facts.remembered?.protocolVersion : undefined) ?? null,
    ...(config.ephemeral ? { ephemeral: { ...config.ephemeral } } : {}),
  };
}
