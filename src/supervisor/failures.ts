/**
 * What went wrong with a server, in words a person can act on: why a start failed, why a call
 * failed, how a process ended. Each gives an McpdError with the code docs/errors.md lists.
 */
import { ErrorCode as McpErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/types.js';
import { McpdError, errorMessage } from '../errors.js';
import { isEraMismatch } from '../upstream/client-classes.js';
import { remoteStartError } from '../upstream/http/errors.js';
import type { ExitInfo } from '../upstream/stdio/process.js';
import { NotReadingError } from '../upstream/stdio/transport.js';
import type { UpstreamTransport } from '../upstream/types.js';

export function describeExit(exit: ExitInfo | null, reason?: string): string {
  if (!exit) return reason ? `${reason} while its process was still running` : 'its connection closed';
  if (exit.signal) return `it was killed by ${exit.signal}`;
  return `it exited with code ${exit.code}`;
}

/** A running server's connection ended on its own. */
export function lostError(
  config: ServerConfig,
  exit: ExitInfo | null,
  reason: string | undefined,
  withStderr: (m: string) => string,
): McpdError {
  const lost = exit === null && config.transport === 'stdio';
  return new McpdError(
    lost ? 'MCPD_SERVER_CONNECTION_LOST' : 'MCPD_SERVER_EXITED',
    withStderr(`Server "${config.name}" stopped unexpectedly: ${describeExit(exit, reason)}.`),
    {
      server: config.name,
      details: { exitCode: exit?.code ?? null, signal: exit?.signal ?? null, ...(reason ? { reason } : {}) },
    },
  );
}

export interface StartFailure {
  error: unknown;
  /** How the process ended, when it did (undefined: it did not). */
  exit: ExitInfo | null | undefined;
  closeReason: string | undefined;
  transport: UpstreamTransport | undefined;
  wantedScope: string | undefined;
}

/** Why a start attempt failed. */
export function startError(config: ServerConfig, failure: StartFailure, withStderr: (m: string) => string): McpdError {
  const { error, exit, closeReason } = failure;
  const server = config.name;
  // Checked before the exit: a server that timed out is killed by us, which is not its crash.
  if (
    (error instanceof McpdError && error.code === 'MCPD_SERVER_INIT_TIMEOUT') ||
    (error instanceof McpError && error.code === Number(McpErrorCode.RequestTimeout))
  ) {
    return new McpdError(
      'MCPD_SERVER_INIT_TIMEOUT',
      withStderr(`Server "${server}" did not finish starting (initialize and listing) within ${config.timeouts.startupMs} ms.`),
      { server, cause: error },
    );
  }
  if (error instanceof McpdError && error.code !== 'MCPD_TIMEOUT') return error;
  if (config.transport === 'http') {
    const protocol = failure.transport === 'sse' ? 'sse' : 'streamable-http';
    const remote = remoteStartError(config, protocol, error, failure.wantedScope);
    if (remote) return remote;
  }
  if (exit !== undefined) {
    return new McpdError(
      'MCPD_SERVER_EXITED',
      withStderr(`Server "${server}" stopped during startup: ${describeExit(exit, closeReason)}.`),
      {
        server,
        details: { exitCode: exit?.code ?? null, signal: exit?.signal ?? null },
        cause: error,
      },
    );
  }
  // The transport closed it for a reason of its own (a message over the limit): say that, not "Connection closed".
  if (closeReason !== undefined) {
    return new McpdError('MCPD_SERVER_CONNECTION_LOST', withStderr(`Server "${server}" stopped during startup: ${closeReason}.`), {
      server,
      details: { reason: closeReason },
      cause: error,
    });
  }
  if (isEraMismatch(error) && config.protocol !== 'auto') {
    return new McpdError(
      'MCPD_SERVER_INIT_FAILED',
      withStderr(
        `Server "${server}" does not speak MCP ${config.protocol}, which servers.${server}.protocol pins: ${errorMessage(error)}. Leave "protocol" out to negotiate.`,
      ),
      // Retrying the same pin cannot help: no restart loop.
      { server, cause: error, details: { permanent: true } },
    );
  }
  return new McpdError('MCPD_SERVER_INIT_FAILED', withStderr(`Server "${server}" failed to initialize: ${errorMessage(error)}`), {
    server,
    cause: error,
  });
}

export interface CallFailure {
  error: unknown;
  /** What was called: `tool "echo"`, `resource file:///x`, a method. */
  what: string;
  timeoutMs: number;
  cancelled: boolean;
  /** Why the attempt the call ran on ended, when it did. */
  attemptFailure: McpdError | undefined;
}

/** Why a call failed (a sign-in that ran out is found by the caller first: it changes the server's state). */
export function callError(server: string, failure: CallFailure): McpdError {
  const { error, what, timeoutMs } = failure;
  if (error instanceof McpdError) return error;
  if (failure.cancelled) {
    return new McpdError('MCPD_CALL_CANCELLED', `Call to ${what} on server "${server}" was cancelled.`, { server, cause: error });
  }
  if (error instanceof NotReadingError) {
    return new McpdError('MCPD_SERVER_NOT_READING', `Call to ${what} on server "${server}" failed: ${error.message}.`, {
      server,
      cause: error,
    });
  }
  if (error instanceof McpError && error.code === Number(McpErrorCode.RequestTimeout)) {
    return new McpdError(
      'MCPD_CALL_TIMEOUT',
      `Call to ${what} on server "${server}" timed out after ${timeoutMs} ms (the server was told to cancel it).`,
      { server, cause: error },
    );
  }
  if ((error instanceof McpError && error.code === Number(McpErrorCode.ConnectionClosed)) || failure.attemptFailure) {
    const why = failure.attemptFailure ? ` (${failure.attemptFailure.message})` : '';
    return new McpdError(
      'MCPD_CALL_FAILED',
      `Server "${server}" went away while the call to ${what} was in flight${why}; the call was not retried.`,
      { server, cause: error },
    );
  }
  return new McpdError('MCPD_CALL_FAILED', `Call to ${what} on server "${server}" failed: ${errorMessage(error)}`, {
    server,
    cause: error,
  });
}
