/**
 * A server's resolved config as a person may be shown it (the dashboard): every value that may
 * hold a secret is masked — env values, header values, the OAuth client secret, and the values
 * of a URL's query — while the shape and the names stay, so one can still see what is set.
 */
import type { ServerConfig } from './types.js';

export const MASK = '••••••';

function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = 'xxxxxx';
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, MASK);
    return url.toString();
  } catch {
    return raw;
  }
}

export function maskServerConfig(config: ServerConfig): Record<string, unknown> {
  const { disabled, tools, timeouts, restart, roots } = config;
  // What a person looks for first (how it runs), then the policies.
  const rest = { disabled, tools, timeouts, restart, roots };
  if (config.transport === 'stdio') {
    const { command, args, cwd, env } = config;
    return { transport: 'stdio', command, args, cwd, env: Object.fromEntries(Object.keys(env).map((key) => [key, MASK])), ...rest };
  }
  const { url, protocol, headers, oauth } = config;
  return {
    transport: 'http',
    url: maskUrl(url),
    protocol,
    // A command that prints the value is shown (it is config, not the secret); a literal value is not.
    headers: Object.fromEntries(Object.entries(headers).map(([key, value]) => [key, typeof value === 'string' ? MASK : value])),
    ...(oauth ? { oauth: { ...oauth, ...(oauth.clientSecret ? { clientSecret: MASK } : {}) } } : {}),
    ...rest,
  };
}
