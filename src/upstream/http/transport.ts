/**
 * The transports to a remote server (Streamable HTTP, or legacy SSE), and what their failures
 * say: the HTTP status, and whether the server looks like a legacy SSE one.
 */
import {
  SdkError,
  SdkErrorCode,
  SSEClientTransport,
  StreamableHTTPClientTransport,
  extractWWWAuthenticateParams,
  type FetchLike,
  type OAuthClientProvider,
  type Transport,
} from '@modelcontextprotocol/client';
import { httpStatus } from '../client-classes.js';
import { abortIsolatingFetch } from './isolated-fetch.js';

export type RemoteProtocol = 'streamable-http' | 'sse';

export function remoteTransport(
  protocol: RemoteProtocol,
  url: string,
  headers: Record<string, string>,
  auth?: { provider?: OAuthClientProvider; onChallenge: (challenge: ScopeChallenge) => void },
): Transport {
  const options = {
    requestInit: { headers },
    fetch: auth ? challengeWatchingFetch(abortIsolatingFetch(), auth.onChallenge) : abortIsolatingFetch(),
    ...(auth?.provider ? { authProvider: auth.provider } : {}),
  };
  return protocol === 'sse' ? new SSEClientTransport(new URL(url), options) : new StreamableHTTPClientTransport(new URL(url), options);
}

/** What a 401 or a 403 `insufficient_scope` asked for: the scope the next sign-in needs. */
export interface ScopeChallenge {
  /** 401: not signed in (or no longer); 403: signed in, but for less. */
  status: 401 | 403;
  scope: string;
}

/**
 * Tells of the scope a 401 or a 403 `insufficient_scope` challenges with, however far into the
 * connection it came (a server may take `initialize` and refuse `tools/list`). The SDK refreshes
 * the token on a 403, but a refresh cannot widen a scope: the person has to sign in again.
 */
function challengeWatchingFetch(base: FetchLike, onChallenge: (challenge: ScopeChallenge) => void): FetchLike {
  return async (url, init) => {
    const response = await base(url, init);
    if (response.status === 401 || response.status === 403) {
      const { error, scope } = extractWWWAuthenticateParams(response);
      if (scope && (response.status === 401 || error === 'insufficient_scope')) onChallenge({ status: response.status, scope });
    }
    return response;
  };
}

/**
 * Whether a Streamable HTTP attempt failed the way a legacy SSE server makes it fail: the spec
 * says to try the SSE transport after 400, 404 or 405 to the initialize POST (and an answer of
 * an unexpected content type says the same).
 */
export function looksLegacy(error: unknown): boolean {
  const status = httpStatus(error);
  if (status === 400 || status === 404 || status === 405) return true;
  return error instanceof SdkError && error.code === SdkErrorCode.ClientHttpUnexpectedContent;
}
