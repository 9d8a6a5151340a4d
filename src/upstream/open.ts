/** Makes the connection a server's config names: its own process over stdio, or a remote one over HTTP. */
import type { ServerConfig } from '../config/types.js';
import { HttpUpstream } from './http/connection.js';
import { StdioUpstream } from './stdio/connection.js';
import type { Upstream, UpstreamDeps, UpstreamHooks } from './types.js';

/** A local server is spawned here; a remote one connects at `initialize`. */
export async function openUpstream(config: ServerConfig, deps: UpstreamDeps, hooks: UpstreamHooks): Promise<Upstream> {
  return config.transport === 'stdio' ? StdioUpstream.open(config, deps, hooks) : new HttpUpstream(config, deps, hooks);
}
