/**
 * Sign-ins to the remote servers of the running config (mcpd auth): the OAuth flows
 * (upstream/http/auth/sign-in.ts) tied to the servers they are for. Signed in or out, a server
 * reconnects with what it has now.
 */
import type { HttpServerConfig, ResolvedConfig } from '../config/types.js';
import { McpdError } from '../errors.js';
import type { AuthPort } from '../ports/auth.js';
import type { AuthStatus, ServerStatus } from '../protocol/types.js';
import type { SignIns } from '../upstream/http/auth/sign-in.js';
import type { Supervisor } from './supervisor.js';

export class ServerAuth implements AuthPort {
  constructor(
    private readonly supervisor: Supervisor,
    private readonly signIns: SignIns,
    private readonly config: () => ResolvedConfig,
  ) {}

  list(): AuthStatus[] {
    return Object.values(this.config().servers).flatMap((config) =>
      config.transport === 'http' ? [this.signIns.status(config, this.supervisor.get(config.name).state)] : [],
    );
  }

  signIn(name: string, signal: AbortSignal): Promise<{ authorizationUrl: string } | { signedIn: true }> {
    return this.signIns.start(this.remoteConfig(name), signal);
  }

  async waitSignIn(name: string, signal: AbortSignal): Promise<ServerStatus> {
    await this.signIns.wait(name, signal);
    return this.supervisor.get(name).status();
  }

  async signOut(name: string): Promise<ServerStatus> {
    this.signIns.logout(this.remoteConfig(name));
    const server = this.supervisor.get(name);
    // Running on the old token until it is refused is not signed out: reconnect without it.
    if (server.state !== 'stopped' && server.state !== 'disabled') await server.restart();
    return server.status();
  }

  /** A remote server of the running config (sign-in works on those only). */
  private remoteConfig(name: string): HttpServerConfig {
    const config = this.supervisor.get(name).config;
    if (config.transport !== 'http') {
      throw new McpdError('MCPD_USAGE', `Server "${name}" is a local server (command); only remote servers (url) sign in.`, {
        server: name,
      });
    }
    return config;
  }
}
