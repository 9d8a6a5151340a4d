/** `${VAR}` and `${VAR:-default}` expansion over every string of a config, with the path of each failure. */

export interface ExpansionProblem {
  path: string;
  message: string;
}

const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function expandString(value: string, env: NodeJS.ProcessEnv, path: string, problems: ExpansionProblem[]): string {
  return value.replace(PATTERN, (_match, name: string, fallback: string | undefined) => {
    const found = env[name];
    if (found !== undefined && found !== '') return found;
    if (fallback !== undefined) return fallback;
    problems.push({ path, message: `environment variable ${name} is not set (write \${${name}:-default} to give a default)` });
    return '';
  });
}

/** Returns a deep copy of `value` with every string expanded. */
export function expandEnv(value: unknown, env: NodeJS.ProcessEnv, problems: ExpansionProblem[], path = ''): unknown {
  if (typeof value === 'string') return expandString(value, env, path || '(root)', problems);
  if (Array.isArray(value)) return value.map((item, index) => expandEnv(item, env, problems, `${path}[${index}]`));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // Defined, not assigned: no key (not even __proto__) can change what the object is.
      Object.defineProperty(out, key, {
        value: expandEnv(item, env, problems, path ? `${path}.${key}` : key),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}
