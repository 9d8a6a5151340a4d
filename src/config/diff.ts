/** Per-server difference between two resolved configs, for reload. */
import { canonicalJson } from '../util/canonical.js';
import type { ResolvedConfig, ServerConfig } from './types.js';

export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
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
