/**
 * The SDK's OAuth client, seen from mcpd: one provider per remote server, reading and writing the
 * server's record in the AuthStore. The SDK does the protocol (discovery of the protected
 * resource and its authorization server, dynamic registration or a client ID metadata document,
 * PKCE, the `resource` parameter, the scope from `WWW-Authenticate`, refresh).
 *
 * Two modes. Connecting (the daemon's connection to the server): tokens are used and refreshed,
 * but a new sign-in cannot happen there, so a redirect is a `NeedsSignIn`. Signing in
 * (`mcpd auth NAME`): the redirect is handed to the person, and the code comes back to a
 * loopback callback.
 */
import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { HttpServerConfig } from '../../../config/types.js';
import { VERSION } from '../../../version.js';
import { AuthStore, type AuthRecord } from './store.js';

/** A sign-in is needed: what the connection ran into. `scope` is what the server asked for. */
export class NeedsSignIn extends Error {
  constructor(
    readonly server: string,
    readonly scope: string | undefined,
  ) {
    super(`server "${server}" needs a sign-in${scope ? ` (scope ${scope})` : ''}: run mcpd auth ${server}`);
  }
}

/** A redirect URI registered before a loopback port is known (never listened on). */
const PLACEHOLDER_REDIRECT = 'http://127.0.0.1/callback';

export interface SignInMode {
  redirectUrl: string;
  /** Receives the authorization URL to send the person to. */
  onAuthorizationUrl: (url: URL) => void;
}

const NATIVE_APPLICATION: Record<string, string> = { application_type: 'native' };

export class ServerAuthProvider implements OAuthClientProvider {
  private verifier: string | undefined;
  readonly expectedState = randomBytes(16).toString('hex');

  constructor(
    private readonly config: HttpServerConfig,
    private readonly store: AuthStore,
    private readonly signIn?: SignInMode,
  ) {}

  private record(): AuthRecord | undefined {
    return this.store.read(this.config.name, this.config.url);
  }

  private update(change: (record: AuthRecord) => void): void {
    this.store.update(this.config.name, this.config.url, change);
  }

  get redirectUrl(): string {
    return this.signIn?.redirectUrl ?? this.record()?.redirectUrl ?? PLACEHOLDER_REDIRECT;
  }

  get clientMetadataUrl(): string | undefined {
    return this.config.oauth?.clientMetadataUrl;
  }

  get clientMetadata(): OAuthClientMetadata {
    const oauth = this.config.oauth;
    return {
      client_name: `mcpd ${VERSION}`,
      // A program on the person's machine with a loopback redirect (RFC 8252): what 2026-07-28
      // asks a client to say when it registers (OpenID dynamic registration's application_type).
      // (The v1 SDK's type predates the field; the registration request carries it as given.)
      ...NATIVE_APPLICATION,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: oauth?.clientSecret ? 'client_secret_post' : 'none',
      ...(oauth?.scopes?.length ? { scope: oauth.scopes.join(' ') } : {}),
    };
  }

  state(): string {
    return this.expectedState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    const oauth = this.config.oauth;
    // Pre-registered in the config: used as is, never registered again.
    if (oauth?.clientId) return { client_id: oauth.clientId, ...(oauth.clientSecret ? { client_secret: oauth.clientSecret } : {}) };
    const stored = this.record();
    // A registration made for another redirect URI cannot take this sign-in's redirect.
    if (this.signIn && stored?.redirectUrl !== this.signIn.redirectUrl) return undefined;
    return stored?.clientInformation;
  }

  // Only what the SDK registered itself is stored (pre-registered clients stay in the config).
  get saveClientInformation(): ((info: OAuthClientInformationMixed) => void) | undefined {
    if (this.config.oauth?.clientId) return undefined;
    return (info) =>
      this.update((r) => {
        r.clientInformation = info;
        r.redirectUrl = this.redirectUrl;
      });
  }

  tokens(): OAuthTokens | undefined {
    // Signing in is a new authorization, never a refresh: a refresh cannot widen the scope.
    if (this.signIn) return undefined;
    return this.record()?.tokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.update((r) => {
      r.tokens = tokens;
      r.savedAt = Date.now();
      if (tokens.scope) r.grantedScope = tokens.scope;
      delete r.wantedScope;
    });
  }

  redirectToAuthorization(url: URL): void {
    if (this.signIn) {
      this.signIn.onAuthorizationUrl(url);
      return;
    }
    // Connecting: a person has to sign in. The scope the server challenged with is remembered for
    // that sign-in (a first one asks for it, not for everything the server supports); beyond what
    // was granted it is a step-up, which asks for both (a narrower token would fail elsewhere).
    const scope = url.searchParams.get('scope') ?? undefined;
    const record = this.record();
    const grantedScope = record?.tokens?.scope ?? record?.grantedScope;
    const granted = new Set((grantedScope ?? '').split(' ').filter(Boolean));
    const more = scope !== undefined && granted.size > 0 && scope.split(' ').some((s) => !granted.has(s));
    if (scope !== undefined) this.update((r) => (r.wantedScope = unionScope(more ? grantedScope : undefined, scope)));
    throw new NeedsSignIn(this.config.name, more ? scope : undefined);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    if (!this.verifier) throw new Error('no PKCE code verifier: the sign-in was not started here');
    return this.verifier;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.record()?.discovery;
  }

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.update((r) => (r.discovery = state));
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): void {
    if (scope === 'verifier') {
      this.verifier = undefined;
      return;
    }
    this.update((r) => {
      if (scope === 'all' || scope === 'client') delete r.clientInformation;
      if (scope === 'all' || scope === 'tokens') {
        delete r.tokens;
        delete r.savedAt;
      }
      if (scope === 'all' || scope === 'discovery') delete r.discovery;
    });
  }
}

/** Two space-separated scope lists as one, each scope once (the first list's order first). */
export function unionScope(a: string | undefined, b: string): string {
  return [...new Set([...(a ?? '').split(' '), ...b.split(' ')].filter(Boolean))].join(' ');
}
