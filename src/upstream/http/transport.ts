/**
 * The transports to a remote server (Streamable HTTP, or legacy SSE), and what their failures
 * say: the HTTP status, and whether the server looks like a legacy SSE one.
 */
import { SSEClientTransport, SseError } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike, Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { abortIsolatingFetch } from './isolated-fetch.js';

export type RemoteProtocol = 'streamable-http' | 'sse';

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
