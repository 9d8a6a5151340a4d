/** Minimal globs for tool filters: `*` any run of characters, `?` one character; whole-name match. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => globToRegExp(glob).test(name));
}

/** Allow (empty = all) then deny. */
export function isAllowed(name: string, filter: { allow: readonly string[]; deny: readonly string[] }): boolean {
  if (filter.allow.length > 0 && !matchesAny(name, filter.allow)) return false;
  return !matchesAny(name, filter.deny);
}
