/**
 * The running config's secrets, kept out of everything mcpd shows or writes: log lines, errors in
 * `status`, answers to the control socket. The daemon registers them whenever a config loads (a
 * remote server's URL credentials, query values and token-like path segments, literal header
 * values, env values); `scrubSecrets` replaces each with a mask wherever it appears, however the
 * text that carries it was made (an SDK's error quoting a URL, say).
 */
export const SECRET_MASK = '••••••';

/** Shorter values are not taken for secrets: masking "1" or "on" would garble every line. */
const MIN_SECRET_LENGTH = 6;
/** A path segment this long with letters and digits mixed looks like a token (…/sk_live_…/mcp). */
const TOKENISH = /^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-.~]{20,}$/;

let secrets: string[] = [];

/** The parts of a URL that may be secret: user name and password, query values, token-like path segments. */
export function urlSecrets(raw: string): string[] {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const part of [url.username, url.password]) if (part) found.push(part, decodeURIComponent(part));
  for (const value of url.searchParams.values()) if (value) found.push(value, encodeURIComponent(value));
  for (const segment of url.pathname.split('/')) if (TOKENISH.test(segment)) found.push(segment);
  return found;
}

/** The URL as it may be shown: credentials, query values and token-like path segments masked. */
export function maskUrl(raw: string, mask = SECRET_MASK): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.username) url.username = 'user';
  if (url.password) url.password = 'xxxxxx';
  for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, mask);
  url.pathname = url.pathname
    .split('/')
    .map((segment) => (TOKENISH.test(segment) ? 'xxxxxx' : segment))
    .join('/');
  return url.toString();
}

/** Replaces what is registered (the previous set is dropped: a reload's config is the one that counts). */
export function setSecrets(values: Iterable<string>): void {
  secrets = [...new Set([...values].filter((v) => v.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
}

/** `text` with every registered secret masked. */
export function scrubSecrets(text: string): string {
  if (secrets.length === 0) return text;
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(SECRET_MASK);
  return out;
}
