/**
 * A server's resolved config as a person may be shown it (the dashboard): every value that may
 * hold a secret is masked — env values that look secret, header values, the OAuth client secret, and a URL's
 * credentials, query values and token-like path segments — while the shape and the names stay,
 * so one can still see what is set.
 */
import { maskUrl, SECRET_MASK, urlSecrets } from '../util/secrets.js';
import type { ServerConfig } from './types.js';

export const MASK = SECRET_MASK;

const SECRET_NAME = /key|token|secret|pass|auth|cred|cookie|session/i;
const TOKEN_VALUE = /^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.~+/=]{20,}$/;

/**
 * Whether an env value may be a secret: its name says so (API_KEY, GITHUB_TOKEN, DB_PASSWORD), or
 * it is long and opaque like a token. A path (`/home/me/notes2024`) or a short word is not.
 */
export function looksSecret(name: string, value: string): boolean {
  return SECRET_NAME.test(name) || (TOKEN_VALUE.test(value) && !/^[~/.]/.test(value));
}

/** Every value of a config that may be a secret: what the daemon keeps out of logs and errors. */
export function configSecrets(servers: Iterable<ServerConfig>): string[] {
  const found: string[] = [];
  for (const config of servers) {
    if (config.transport === 'stdio') {
      // Env values named like secrets, or that look like tokens (a folder in HOME is not one).
      for (const [name, value] of Object.entries(config.env)) if (looksSecret(name, value)) found.push(value);
      continue;
    }
    found.push(...urlSecrets(config.url));
    for (const value of Object.values(config.headers)) {
      if (typeof value !== 'string') continue;
      // "Bearer abc…": the credential, not the scheme.
      const credential = value.replace(/^(bearer|basic|token)\s+/i, '');
      found.push(value, credential);
    }
    if (config.oauth?.clientSecret) found.push(config.oauth.clientSecret);
  }
  return found;
}

export function maskServerConfig(config: ServerConfig): Record<string, unknown> {
  const { disabled, tools, timeouts, restart, roots, protocol } = config;
  // What a person looks for first (how it runs), then the policies.
  const rest = { protocol, disabled, tools, timeouts, restart, roots };
  if (config.transport === 'stdio') {
    const { command, args, cwd, env } = config;
    // What looks secret is masked; LOG_LEVEL=debug or a folder stays readable.
    const shown = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, looksSecret(key, value) ? MASK : value]));
    return { transport: 'stdio', command, args, cwd, env: shown, ...rest };
  }
  const { url, wire, headers, oauth } = config;
  return {
    transport: 'http',
    url: maskUrl(url),
    wire,
    // A command that prints the value is shown (it is config, not the secret); a literal value is not.
    headers: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, typeof value === 'string' ? MASK : value])),
    ...(oauth ? { oauth: { ...oauth, ...(oauth.clientSecret ? { clientSecret: MASK } : {}) } } : {}),
    ...rest,
  };
}
