/**
 * `mcpd auth NAME`, inside the daemon (which keeps the tokens): the OAuth authorization-code flow
 * with PKCE for one remote server. The daemon asks the server what it wants (`WWW-Authenticate`),
 * lets the SDK discover and register, hands the authorization URL to the person, receives the
 * redirect on a loopback port of its own, exchanges the code, and restarts the server.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { metadataIssuerProblem, responseIssuerProblem } from './issuer.js';
import { auth, discoverOAuthServerInfo, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig } from '../../../config/types.js';
import { McpdError, errorMessage } from '../../../errors.js';
import type { Logger } from '../../../logs/store.js';
import type { AuthStatus, ServerState } from '../../../protocol/types.js';
import { resolveHeaders } from '../headers.js';
import { ServerAuthProvider } from './provider.js';
import { AuthStore } from './store.js';

/** How long a started sign-in waits for the person. */
export const SIGN_IN_TIMEOUT_MS = 5 * 60_000;

interface Flow {
  callback: Server;
  done: Promise<void>;
  cancel: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface SignInsDeps {
  store: AuthStore;
  log: Logger;
  /** Signed in: the daemon restarts the server with its tokens. */
  onSignedIn: (server: string) => Promise<void>;
}

export class SignIns {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly deps: SignInsDeps) {}

  /**
   * Starts a sign-in: the URL to send the person to, or `signedIn` when a refresh was enough.
   * A sign-in already waiting for this server is replaced.
   */
  async start(config: HttpServerConfig, signal: AbortSignal): Promise<{ authorizationUrl: string } | { signedIn: true }> {
    this.flows.get(config.name)?.cancel(new McpdError('MCPD_CALL_CANCELLED', `A new sign-in to "${config.name}" replaced this one.`));
    const record = this.deps.store.read(config.name, config.url);
    const callback = await listenLoopback(portOf(record?.redirectUrl));
    const redirectUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    let authorizationUrl: URL | undefined;
    const provider = new ServerAuthProvider(config, this.deps.store, {
      redirectUrl,
      onAuthorizationUrl: (url) => (authorizationUrl = url),
    });
    try {
      const asked = await this.probe(config, signal);
      const options = { serverUrl: config.url, ...(asked.resourceMetadataUrl ? { resourceMetadataUrl: asked.resourceMetadataUrl } : {}) };
      const scope = record?.wantedScope ?? asked.scope;
      // Discovery first, checked before the SDK uses any endpoint it names: metadata of another
      // issuer is refused, and a new authorization server means a new registration.
      const found = await discoverOAuthServerInfo(
        config.url,
        asked.resourceMetadataUrl ? { resourceMetadataUrl: asked.resourceMetadataUrl } : {},
      );
      const untrusted = metadataIssuerProblem(found);
      if (untrusted) throw new Error(`${untrusted}; nobody is sent to sign in there`);
      const before = provider.discoveryState()?.authorizationServerUrl;
      if (before !== undefined && before !== found.authorizationServerUrl) {
        this.deps.log.info(
          `sign-in to ${config.name}: its authorization server moved (${before} → ${found.authorizationServerUrl}); registering again`,
        );
        provider.invalidateCredentials('all');
      }
      provider.saveDiscoveryState({
        ...found,
        ...(asked.resourceMetadataUrl ? { resourceMetadataUrl: asked.resourceMetadataUrl.href } : {}),
      });
      const result = await auth(provider, { ...options, ...(scope ? { scope } : {}) });
      if (result === 'AUTHORIZED' || !authorizationUrl) {
        callback.close();
        await this.deps.onSignedIn(config.name);
        return { signedIn: true };
      }
      this.flows.set(config.name, this.awaitRedirect(config, provider, callback, options));
      this.deps.log.info(`sign-in to ${config.name} started; waiting for the redirect on ${redirectUrl}`);
      return { authorizationUrl: authorizationUrl.href };
    } catch (error) {
      callback.close();
      throw new McpdError('MCPD_AUTH_FAILED', `Signing in to "${config.name}" (${config.url}) failed: ${errorMessage(error)}`, {
        server: config.name,
        cause: error,
      });
    }
  }

  /** Resolves when the sign-in started for this server completes (rejects if it fails). */
  async wait(server: string, signal: AbortSignal): Promise<void> {
    const flow = this.flows.get(server);
    if (!flow)
      throw new McpdError('MCPD_AUTH_FAILED', `No sign-in to "${server}" is under way: start one with mcpd auth ${server}`, { server });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      flow.done.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Forgets the server's tokens and registration. */
  logout(config: HttpServerConfig): boolean {
    this.flows.get(config.name)?.cancel(new McpdError('MCPD_CALL_CANCELLED', `Signed out of "${config.name}".`));
    const had = this.deps.store.read(config.name, config.url) !== undefined;
    this.deps.store.remove(config.name);
    this.deps.log.info(`signed out of ${config.name}`);
    return had;
  }

  status(config: HttpServerConfig, serverState: ServerState): AuthStatus {
    const record = this.deps.store.read(config.name, config.url);
    const expiresAt = AuthStore.expiresAt(record);
    const expired = expiresAt !== undefined && expiresAt <= Date.now();
    const state = record?.tokens
      ? serverState === 'needs-auth'
        ? 'needs-sign-in'
        : expired
          ? 'expired'
          : 'signed-in'
      : serverState === 'needs-auth'
        ? 'needs-sign-in'
        : 'not-signed-in';
    return {
      server: config.name,
      url: config.url,
      state,
      expiresAt: expiresAt === undefined ? null : new Date(expiresAt).toISOString(),
      scope: record?.tokens?.scope ?? null,
      pending: this.flows.has(config.name),
    };
  }

  close(): void {
    for (const flow of this.flows.values()) flow.cancel(new McpdError('MCPD_CLOSED', 'The daemon is stopping.'));
  }

  /** What the server says it wants: the resource metadata URL and scope of its 401. */
  private async probe(config: HttpServerConfig, signal: AbortSignal): Promise<{ resourceMetadataUrl?: URL; scope?: string }> {
    try {
      const headers = await resolveHeaders(config, signal);
      const response = await fetch(config.url, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcpd', version: '0' } },
        }),
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]),
      });
      await response.body?.cancel();
      if (response.status !== 401 && response.status !== 403) return {};
      const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
      return { ...(resourceMetadataUrl ? { resourceMetadataUrl } : {}), ...(scope ? { scope } : {}) };
    } catch {
      return {}; // discovery goes on from the well-known URLs
    }
  }

  /** Waits for the redirect to the loopback callback, then exchanges the code for tokens. */
  private awaitRedirect(
    config: HttpServerConfig,
    provider: ServerAuthProvider,
    callback: Server,
    options: { serverUrl: string; resourceMetadataUrl?: URL },
  ): Flow {
    let settle!: (error?: Error) => void;
    const done = new Promise<void>((resolve, reject) => {
      settle = (error) => (error ? reject(error) : resolve());
    });
    done.catch(() => undefined); // a flow nobody waits for may fail quietly (it is logged)
    const finish = (error?: Error) => {
      clearTimeout(flow.timer);
      callback.close();
      callback.closeAllConnections();
      if (this.flows.get(config.name) === flow) this.flows.delete(config.name);
      if (error) this.deps.log.warn(`sign-in to ${config.name}: ${error.message}`);
      settle(error);
    };
    callback.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/callback') return void res.writeHead(404).end();
      const page = (status: number, text: string) =>
        res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>mcpd</title><p>${text}</p>`);
      const error = url.searchParams.get('error');
      if (error) {
        page(400, `Sign-in to ${escapeHtml(config.name)} was refused: ${escapeHtml(error)}. You can close this tab.`);
        return finish(
          new McpdError(
            'MCPD_AUTH_FAILED',
            `The authorization server refused the sign-in to "${config.name}": ${error}${url.searchParams.get('error_description') ? ` (${url.searchParams.get('error_description')})` : ''}`,
            { server: config.name },
          ),
        );
      }
      const code = url.searchParams.get('code');
      if (!code || url.searchParams.get('state') !== provider.expectedState)
        return void page(400, 'This is not the redirect of the sign-in mcpd started (state mismatch).');
      const mixup = responseIssuerProblem(provider.discoveryState(), url.searchParams.get('iss'));
      if (mixup) {
        page(400, `Sign-in to ${escapeHtml(config.name)} was refused by mcpd: ${escapeHtml(mixup)}. You can close this tab.`);
        return finish(new McpdError('MCPD_AUTH_FAILED', `Signing in to "${config.name}" stopped: ${mixup}.`, { server: config.name }));
      }
      void auth(provider, { ...options, authorizationCode: code })
        .then(async () => {
          page(200, `Signed in to ${escapeHtml(config.name)}. You can close this tab.`);
          this.deps.log.info(`signed in to ${config.name}`);
          await this.deps.onSignedIn(config.name).catch(() => undefined);
          finish();
        })
        .catch((caught: unknown) => {
          page(500, `Sign-in to ${escapeHtml(config.name)} failed: ${escapeHtml(errorMessage(caught))}`);
          finish(
            new McpdError('MCPD_AUTH_FAILED', `Exchanging the authorization code of "${config.name}" failed: ${errorMessage(caught)}`, {
              server: config.name,
              cause: caught,
            }),
          );
        });
    });
    const flow: Flow = {
      callback,
      done,
      cancel: (error) => finish(error),
      timer: setTimeout(
        () =>
          finish(
            new McpdError(
              'MCPD_TIMEOUT',
              `Nobody finished the sign-in to "${config.name}" within ${SIGN_IN_TIMEOUT_MS / 60_000} minutes; run mcpd auth ${config.name} again.`,
              { server: config.name },
            ),
          ),
        SIGN_IN_TIMEOUT_MS,
      ),
    };
    flow.timer.unref();
    return flow;
  }
}

function portOf(redirectUrl: string | undefined): number {
  const port = redirectUrl ? Number(new URL(redirectUrl).port) : 0;
  return Number.isInteger(port) ? port : 0;
}

/** A loopback listener on `port` (the one registered before), or any free one if it is taken. */
async function listenLoopback(port: number): Promise<Server> {
  const server = createServer();
  server.headersTimeout = 10_000;
  const listen = (p: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(port);
  } catch {
    await listen(0);
  }
  return server;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
