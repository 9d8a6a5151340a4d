/**
 * Globs on tool names (config filters, chat approval, the plugin API), by picomatch: `*` any run
 * of characters (a `/` too: names are not paths), `?` one character, `[abc]`, `{a,b}`; the whole
 * name must match. Compiled once per glob.
 */
import picomatch from 'picomatch';

const OPTIONS: picomatch.PicomatchOptions = { bash: true, dot: true };
const compiled = new Map<string, (name: string) => boolean>();

function matcher(glob: string): (name: string) => boolean {
  let match = compiled.get(glob);
  if (!match) {
    match = picomatch(glob, OPTIONS);
    // Globs come from configs and plugins: a bounded cache.
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(glob, match);
  }
  return match;
}

export function globToRegExp(glob: string): RegExp {
  return picomatch.makeRe(glob, OPTIONS);
}

export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => matcher(glob)(name));
}

/** Allow (empty = all) then deny. */
export function isAllowed(name: string, filter: { allow: readonly string[]; deny: readonly string[] }): boolean {
  if (filter.allow.length > 0 && !matchesAny(name, filter.allow)) return false;
  return !matchesAny(name, filter.deny);
}
