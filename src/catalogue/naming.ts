/**
 * Namespaced names that are always valid for Claude: `^[a-zA-Z0-9_-]{1,64}$`.
 *
 * `<server>__<tool>`; other characters become `_`. A name longer than the limit (64, or less:
 * `gateway.maxNameLength` leaves room for the prefix a host adds), or one that collides with
 * another after sanitising, is cut and given a hash suffix of its original (server, tool) pair,
 * so the same inputs always give the same names whatever order they come in.
 */
import { createHash } from 'node:crypto';

export const MAX_NAME_LENGTH = 64;
export const SEPARATOR = '__';
const VALID = /^[a-zA-Z0-9_-]{1,64}$/;
const HASH_LENGTH = 8;

export function isValidName(name: string): boolean {
  return VALID.test(name);
}

export function sanitize(part: string): string {
  const cleaned = part.replace(/[^a-zA-Z0-9_-]/g, '_');
  return cleaned === '' ? '_' : cleaned;
}

function hashOf(server: string, item: string, length = HASH_LENGTH): string {
  return createHash('sha256').update(`${server}\u0000${item}`).digest('hex').slice(0, length);
}

function withSuffix(base: string, server: string, item: string, max: number, length = HASH_LENGTH): string {
  const suffix = `_${hashOf(server, item, length)}`;
  return base.slice(0, max - suffix.length) + suffix;
}

export interface NameRequest {
  server: string;
  /** The server's own name for the tool or prompt. */
  name: string;
}

/**
 * Gives every (server, name) pair its exposed name. Returns the names in input order.
 * Deterministic for the same set of inputs: collisions are found over the whole set first.
 */
export function assignNames(requests: readonly NameRequest[], max = MAX_NAME_LENGTH): string[] {
  const plain = requests.map((r) => `${sanitize(r.server)}${SEPARATOR}${sanitize(r.name)}`);
  const exact = requests.map((r, i) => `${r.server}${SEPARATOR}${r.name}` === plain[i]);
  const counts = new Map<string, number>();
  const exactCounts = new Map<string, number>();
  plain.forEach((name, i) => {
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (exact[i]) exactCounts.set(name, (exactCounts.get(name) ?? 0) + 1);
  });
  const result = plain.map((name, i) => {
    const request = requests[i]!;
    if (name.length > max) return withSuffix(name, request.server, request.name, max);
    if (counts.get(name) === 1) return name;
    // In a collision, a name that needed no rewriting keeps it (if it alone did): renaming
    // "a.b__x" must not change the name of an existing "a_b__x".
    if (exact[i] && exactCounts.get(name) === 1) return name;
    return withSuffix(name, request.server, request.name, max);
  });
  // A suffixed name could still equal some plain one (astronomically unlikely); widen the hash then.
  const seen = new Set<string>();
  return result.map((name, i) => {
    let out = name;
    for (let length = HASH_LENGTH + 4; seen.has(out) && length <= 40; length += 4) {
      out = withSuffix(plain[i]!, requests[i]!.server, requests[i]!.name, max, length);
    }
    seen.add(out);
    return out;
  });
}
