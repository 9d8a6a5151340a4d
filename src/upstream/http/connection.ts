/**
 * A remote server over HTTP: Streamable HTTP or legacy SSE as the config says; with no "type",
 * Streamable HTTP first and SSE when the server answers the way the spec's backwards-compatibility
 * section describes. Signed in (mcpd auth NAME), the SDK sends the token and refreshes it.
 */
import type { Transport } from '@modelcontextprotocol/client';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import type { HttpServerConfig } from '../../config/types.js';
import { errorMessage } from '../../errors.js';
import { MAX_TIMER_MS } from '../../util/limits.js';
import { SdkUpstream } from '../sdk-upstream.js';
import type { UpstreamDeps, UpstreamHooks } from '../types.js';
import { ServerAuthProvider, unionScope } from './auth/provider.js';
import { AuthStore } from './auth/store.js';
import { hasCommandHeaders, resolveHeaders } from './headers.js';
import { httpStatus } from '../client-classes.js';
import { looksLegacy, remoteTransport, type RemoteProtocol } from './transport.js';

export class HttpUpstream extends SdkUpstream {
  readonly pid = null;
  /** The transport it was reached with (shown in status), once it tried one. */
  transport: RemoteProtocol | undefined;
  private connection: Transport | undefined;
  private up = false;
  private closing: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    override readonly config: HttpServerConfig,
    deps: UpstreamDeps,
    hooks: UpstreamHooks,
  ) {
    super(config, deps, hooks);
    // Only a connection that was up reports closing (a failed try of the handshake does not).
    this.client.onclose = () => {
      if (this.up) hooks.onClosed(null, 'the connection closed');
    };
  }

  /** Headers from commands are run now, and once more on a 401 (the token may have rotated). */
  async initialize(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const config = this.config;
    let headers = await resolveHeaders(config, signal);
    const store = this.deps.authStore;
    const provider = store?.read(config.name, config.url)?.tokens ? new ServerAuthProvider(config, store) : undefined;
    if (store && provider) this.scheduleRefresh(store, provider);
    const attempt = async (protocol: RemoteProtocol) => {
      this.transport = protocol;
      this.connection = remoteTransport(
        protocol,
        config.url,
        headers,
        store
          ? {
              ...(provider ? { provider } : {}),
              // The next sign-in asks for what the server challenged with; a step-up keeps what
              // was granted too (a narrower token would fail elsewhere).
              onChallenge: ({ status, scope }) =>
                store.update(config.name, config.url, (r) => {
                  r.wantedScope = status === 403 ? unionScope(r.tokens?.scope ?? r.grantedScope, scope) : scope;
                }),
            }
          : undefined,
      );
      await this.connectClient(this.connection, timeoutMs, signal);
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
    if (config.wire === 'sse') {
      await withFreshHeaders('sse');
    } else {
      try {
        await withFreshHeaders('streamable-http');
      } catch (error) {
        if (config.wire !== 'auto' || !looksLegacy(error) || signal.aborted) throw error;
        this.deps.logs.append(
          config.name,
          'daemon',
          'info',
          `Streamable HTTP answered ${httpStatus(error) ?? 'with another content type'}; trying the legacy SSE transport (set "type" to skip this)`,
        );
        try {
          await withFreshHeaders('sse');
        } catch (legacy) {
          // Not a legacy server either: what Streamable HTTP said is the cause (a server of a
          // newer revision answers an old initialize with 400), not the SSE endpoint's 404.
          if (signal.aborted) throw legacy;
          this.deps.logs.append(config.name, 'daemon', 'info', `the legacy SSE transport failed too: ${errorMessage(legacy)}`);
          this.transport = 'streamable-http';
          throw error;
        }
      }
    }
    this.up = true;
  }

  override wantedScope(): string | undefined {
    return this.deps.authStore?.read(this.config.name, this.config.url)?.wantedScope;
  }

  /** Refreshes the token a minute before it expires (a refresh token is needed), while connected. */
  private scheduleRefresh(store: AuthStore, provider: ServerAuthProvider): void {
    const config = this.config;
    clearTimeout(this.refreshTimer);
    const record = store.read(config.name, config.url);
    const expiresAt = AuthStore.expiresAt(record);
    if (expiresAt === undefined || !record?.tokens?.refresh_token || this.closing) return;
    // A minute early, or halfway through a shorter life.
    const lead = Math.min(60_000, ((record.tokens.expires_in ?? 0) * 1000) / 2);
    const inMs = Math.min(Math.max(expiresAt - Date.now() - lead, 1_000), MAX_TIMER_MS);
    this.refreshTimer = setTimeout(() => {
      void auth(provider, { serverUrl: config.url, fetchFn: fetch })
        .then(() => {
          this.deps.logs.append(config.name, 'daemon', 'info', 'refreshed the OAuth access token before it expired');
          this.scheduleRefresh(store, provider);
        })
        // The next 401 tries again, and asks for a sign-in if that fails too.
        .catch((error: unknown) =>
          this.deps.logs.append(config.name, 'daemon', 'warn', `could not refresh the OAuth access token: ${errorMessage(error)}`),
        );
    }, inMs);
    this.refreshTimer.unref();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.refreshTimer);
      this.client.onclose = undefined;
      await this.client.close().catch(() => undefined);
    })();
    return this.closing;
  }
}
