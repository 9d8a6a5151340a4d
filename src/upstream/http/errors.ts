/**
 * What a remote server's failure to connect means to a person: the HTTP status, refused, DNS,
 * TLS; and when it means a sign-in is needed (no restart loop then).
 */
import type { HttpServerConfig } from '../../config/types.js';
import { McpdError } from '../../errors.js';
import { NeedsSignIn } from './auth/provider.js';
import { httpStatus, isUnauthorized } from '../client-classes.js';
import type { RemoteProtocol } from './transport.js';

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
    const said = rpcErrorIn(error);
    // A server of a newer revision only: it says which it speaks (-32022).
    const revisions =
      said?.code === -32022 && Array.isArray(said.data?.['supported']) ? (said.data['supported'] as unknown[]).join(', ') : undefined;
    const why = revisions
      ? `: it speaks only protocol revision ${revisions}, and servers.${server}.protocol is "${config.protocol}"${config.protocol === 'auto' ? '' : ' (leave it out to negotiate)'}`
      : said
        ? `: ${said.message}`
        : '';
    return new McpdError(
      'MCPD_SERVER_HTTP_ERROR',
      `Server "${server}": ${where} answered HTTP ${status}${why}${status >= 500 ? ' (a server error; it is retried)' : ''}.`,
      // A pinned revision the server does not speak: retrying cannot help.
      {
        server,
        details: { status, ...(said ? { error: said } : {}), ...(revisions && config.protocol !== 'auto' ? { permanent: true } : {}) },
      },
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
    if (isUnauthorized(e))
      return new McpdError(
        'MCPD_SERVER_NEEDS_AUTH',
        `Server "${server}" needs authorization (${e.message}). Sign in with: mcpd auth ${server}`,
        { server },
      );
  }
  return undefined;
}

/** The JSON-RPC error a refused request's body carried, as the SDK's error quotes it. */
function rpcErrorIn(error: unknown): { code: number; message: string; data?: Record<string, unknown> } | undefined {
  const text = error instanceof Error ? error.message : '';
  const start = text.indexOf('{');
  if (start === -1) return undefined;
  try {
    const body = JSON.parse(text.slice(start)) as { error?: { code?: unknown; message?: unknown; data?: unknown } };
    const e = body.error;
    if (typeof e?.code !== 'number' || typeof e.message !== 'string') return undefined;
    return {
      code: e.code,
      message: e.message,
      ...(e.data && typeof e.data === 'object' ? { data: e.data as Record<string, unknown> } : {}),
    };
  } catch {
    return undefined;
  }
}
