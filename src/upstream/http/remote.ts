/**
 * Remote servers: the transport (Streamable HTTP, legacy SSE, or the first then the other as
 * the MCP spec's backwards-compatibility section says), headers whose values come from a command,
 * and what a failure to connect means to a person (the HTTP status, refused, DNS, TLS).
 */
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { extractWWWAuthenticateParams, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { execa } from 'execa';
import { NeedsSignIn } from './auth/provider.js';
import type { HeaderValue, HttpServerConfig } from '../../config/types.js';
import { McpdError } from '../../errors.js';
import { abortIsolatingFetch } from './isolated-fetch.js';

export type RemoteProtocol = 'streamable-http' | 'sse';

const HEADER_COMMAND_TIMEOUT_MS = 10_000;

export function hasCommandHeaders(config: HttpServerConfig): boolean {
  return Object.values(config.headers).some((v) => typeof v !== 'string');
}

/**
 * The headers to send: literal values as they are, command values from the command's stdout
 * (trimmed, after `prefix`). The output is a secret: never logged, not even on failure.
 */
export async function resolveHeaders(config: HttpServerConfig, signal: AbortSignal): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    out[name] = typeof value === 'string' ? value : await runHeaderCommand(config.name, name, value, signal);
  }
  return out;
}

async function runHeaderCommand(server: string, header: string, value: Exclude<HeaderValue, string>, signal: AbortSignal): Promise<string> {
  const [file, ...args] = value.command;
  const result = await execa(file!, args, {
    reject: false,
    timeout: HEADER_COMMAND_TIMEOUT_MS,
    cancelSignal: signal,
    stdin: 'ignore',
    stripFinalNewline: true,
  });
  if (result.failed || result.stdout.trim() === '') {
    const why = result.timedOut
      ? `did not finish within ${HEADER_COMMAND_TIMEOUT_MS / 1000} s`
      : result.exitCode === undefined
        ? `could not run (${result.code ?? 'error'})`
        : result.stdout.trim() === '' && result.exitCode === 0
          ? 'printed nothing'
          : `exited with ${result.exitCode}`;
    throw new McpdError(
      'MCPD_SERVER_INIT_FAILED',
      `Server "${server}": the command for header ${header} (servers.${server}.headers.${header}.command: ${value.command.join(' ')}) ${why}.`,
      { server },
    );
  }
  return `${value.prefix ?? ''}${result.stdout.trim()}`;
}

export function remoteTransport(
  protocol: RemoteProtocol,
  url: string,
  headers: Record<string, string>,
  auth?: { provider: OAuthClientProvider; onInsufficientScope: (scope: string) => void },
): Transport {
  const options = {
    requestInit: { headers },
    fetch: auth ? scopeWatchingFetch(abortIsolatingFetch(), auth.onInsufficientScope) : abortIsolatingFetch(),
    ...(auth ? { authProvider: auth.provider } : {}),
  };
  return protocol === 'sse' ? new SSEClientTransport(new URL(url), options) : new StreamableHTTPClientTransport(new URL(url), options);
}

/**
 * Tells of a 403 `insufficient_scope` and the scope it asks for. The SDK refreshes the token on
 * it, but a refresh cannot widen a scope: the person has to sign in again with the wider one.
 */
function scopeWatchingFetch(base: FetchLike, onInsufficientScope: (scope: string) => void): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (response.status === 403) {
      const { error, scope } = extractWWWAuthenticateParams(response);
      if (error === 'insufficient_scope' && scope) onInsufficientScope(scope);
    }
    return response;
  };
}

/** The HTTP status a failure carries, when it is one. */
export function httpStatus(error: unknown): number | undefined {
  if (error instanceof StreamableHTTPError || error instanceof SseError)
    return typeof error.code === 'number' && error.code > 0 ? error.code : undefined;
  return undefined;
}

/**
 * Whether a Streamable HTTP attempt failed the way a legacy SSE server makes it fail: the spec
 * says to try the SSE transport after 400, 404 or 405 to the initialize POST (and an answer of
 * an unexpected content type says the same).
 */
export function looksLegacy(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === 400 || status === 404 || status === 405) return true;
  return error instanceof StreamableHTTPError && /Unexpected content type/.test(error.message);
}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there; is the server running?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'its TLS certificate chain holds a self-signed certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host name',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection broke',
};

/** The network cause of a fetch failure, by its code (fetch wraps it: "fetch failed"). */
function networkCause(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES[code]) return `${NETWORK_CODES[code]} [${code}]`;
  }
  return undefined;
}

/**
 * What a remote server's failure to connect means, or undefined when it is not one of these
 * (the caller words it then). 401/403 is `needs authorization`: no restart loop.
 */
export function remoteStartError(
  config: HttpServerConfig,
  protocol: RemoteProtocol,
  error: unknown,
  wantedScope?: string,
): McpdError | undefined {
  const where = `${config.url} (${protocol === 'sse' ? 'legacy SSE' : 'Streamable HTTP'})`;
  const status = httpStatus(error);
  const server = config.name;
  const signIn = needsSignIn(error, server, wantedScope);
  if (signIn) return signIn;
  if (status === 401 || status === 403) {
    return new McpdError(
      'MCPD_SERVER_NEEDS_AUTH',
      `Server "${server}" needs authorization: ${where} answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}. Sign in with: mcpd auth ${server} (or give it credentials in servers.${server}.headers).`,
      { server, details: { status } },
    );
  }
  if (status === 404 || status === 405) {
    const hint =
      protocol === 'sse'
        ? 'not a legacy SSE endpoint (check the URL; for Streamable HTTP leave "type" out)'
        : 'wrong URL, or not a Streamable HTTP endpoint (for a legacy SSE server set "type": "sse")';
    return new McpdError(
      'MCPD_SERVER_HTTP_ERROR',
      `Server "${server}": ${where} answered ${status} ${status === 404 ? 'Not Found' : 'Method Not Allowed'}: ${hint}.`,
      { server, details: { status } },
    );
  }
  if (status !== undefined) {
    return new McpdError(
      'MCPD_SERVER_HTTP_ERROR',
      `Server "${server}": ${where} answered HTTP ${status}${status >= 500 ? ' (a server error; it is retried)' : ''}.`,
      { server, details: { status } },
    );
  }
  const network = networkCause(error);
  if (network)
    return new McpdError('MCPD_SERVER_UNREACHABLE', `Server "${server}" cannot be reached at ${config.url}: ${network}.`, { server });
  return undefined;
}

/** A sign-in is needed (the tokens are gone, expired past refresh, revoked, or too narrow). */
export function needsSignIn(error: unknown, server: string, wantedScope?: string): McpdError | undefined {
  // The server still refuses after the SDK refreshed the token for a wider scope: a step-up.
  if (wantedScope && httpStatus(error) === 403) return needsSignIn(new NeedsSignIn(server, wantedScope), server);
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1) {
    if (e instanceof NeedsSignIn) {
      return new McpdError(
        'MCPD_SERVER_NEEDS_AUTH',
        `Server "${e.server}" needs authorization: its sign-in ${e.scope ? `must cover more (scope ${e.scope})` : 'expired or was revoked, and could not be refreshed'}. Sign in with: mcpd auth ${e.server}`,
        { server: e.server },
      );
    }
    if (e instanceof UnauthorizedError)
      return new McpdError(
        'MCPD_SERVER_NEEDS_AUTH',
        `Server "${server}" needs authorization (${e.message}). Sign in with: mcpd auth ${server}`,
        { server },
      );
  }
  return undefined;
}
