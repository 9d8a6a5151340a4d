/**
 * What a config file must be before anything walks it: not nested deeper than any config needs
 * (a 100 000-deep file overflowed the stack, and took the daemon's reload with it), with no key
 * JavaScript objects cannot hold as data (`__proto__` silently vanished), and, for a file of
 * JSON, valid UTF-8. Each problem names where it is.
 */
import type { ConfigProblem } from './validate.js';

/** Far more than any real config, far less than the stack. */
export const MAX_DEPTH = 64;
const FORBIDDEN_KEYS = new Set(['__proto__']);

/** Problems of shape, found without recursion. */
export function shapeProblems(value: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: node, path, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > MAX_DEPTH) {
      problems.push({ path: path || '(root)', message: `is nested more than ${MAX_DEPTH} levels deep` });
      continue;
    }
    if (Array.isArray(node)) {
      node.forEach((item, index) => stack.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      if (FORBIDDEN_KEYS.has(key)) {
        problems.push({ path: at, message: `"${key}" cannot be used as a name (JavaScript objects do not hold it as data)` });
        continue;
      }
      stack.push({ value: (node as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
  return problems;
}

/** The byte offset of the first invalid UTF-8 sequence, or undefined when the bytes are valid UTF-8. */
export function invalidUtf8At(bytes: Uint8Array): number | undefined {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    // Found the hard way: the longest prefix that decodes.
    let low = 0;
    let high = bytes.length;
    while (low < high) {
      const mid = Math.floor((low + high + 1) / 2);
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
        low = mid;
      } catch {
        high = mid - 1;
      }
    }
    return low;
  }
}
