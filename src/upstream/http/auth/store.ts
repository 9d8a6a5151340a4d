/**
 * What a sign-in leaves: per remote server, its OAuth client registration, its tokens and what
 * discovery found, in `MCPD_HOME/auth/NAME.json` (0600, in a 0700 folder). Bound to the server's
 * URL: a record for another URL is not used. Never logged, never in status, never given to a
 * server process or a plugin.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { OAuthDiscoveryState } from '@modelcontextprotocol/sdk/client/auth.js';

export interface AuthRecord {
  url: string;
  clientInformation?: OAuthClientInformationMixed;
  tokens?: OAuthTokens;
  /** When the tokens were saved (ms), to tell when they expire. */
  savedAt?: number;
  discovery?: OAuthDiscoveryState;
  /** The redirect URI the client was registered with (its loopback port is reused). */
  redirectUrl?: string;
  /** A scope the server asked for more of (403 insufficient_scope), for the next sign-in. */
  wantedScope?: string;
  /** The scope of the last tokens (kept when they are dropped), to tell step-up from expiry. */
  grantedScope?: string;
}

export class AuthStore {
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'auth');
  }

  private file(server: string): string {
    return join(this.dir, `${encodeURIComponent(server)}.json`);
  }

  /** The record for this server at this URL, if there is one. */
  read(server: string, url: string): AuthRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(this.file(server), 'utf8')) as AuthRecord;
      return record.url === url ? record : undefined;
    } catch {
      return undefined;
    }
  }

  /** Changes the record (a new one for a new URL), written whole and atomically, 0600. */
  update(server: string, url: string, change: (record: AuthRecord) => void): AuthRecord {
    const record = this.read(server, url) ?? { url };
    change(record);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file(server)}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(record, null, 2), { mode: 0o600 });
    renameSync(temp, this.file(server));
    return record;
  }

  remove(server: string): void {
    rmSync(this.file(server), { force: true });
  }

  /** When the access token expires (ms), if the server said. */
  static expiresAt(record: AuthRecord | undefined): number | undefined {
    const seconds = record?.tokens?.expires_in;
    return seconds !== undefined && record?.savedAt !== undefined ? record.savedAt + seconds * 1000 : undefined;
  }
}
