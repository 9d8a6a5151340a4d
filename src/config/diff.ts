/** Per-server difference between two resolved configs, for reload. */
import type { ResolvedConfig, ServerConfig } from './types.js';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

/** JSON with object keys sorted, so that reordering keys in the file is not a change. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  return canonical(a) === canonical(b);
}

export function diffServers(before: ResolvedConfig, after: ResolvedConfig): ConfigDiff {
  const diff: ConfigDiff = { added: [], removed: [], changed: [], unchanged: [] };
  for (const [name, next] of Object.entries(after.servers)) {
    const previous = before.servers[name];
    if (!previous) diff.added.push(name);
    else if (sameServer(previous, next)) diff.unchanged.push(name);
    else diff.changed.push(name);
  }
  for (const name of Object.keys(before.servers)) {
    if (!(name in after.servers)) diff.removed.push(name);
  }
  return diff;
}
