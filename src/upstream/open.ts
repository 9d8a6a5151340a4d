/**
 * Makes the connection a server's config names: its own process over stdio, or a remote one
 * over HTTP. The SDK's client (a third of the daemon's code) is loaded here, on the first
 * connection, and a local server is spawned before it: the process starts while the code loads.
 */
import type { ServerConfig } from '../config/types.js';
import { spawnServer } from './stdio/spawn.js';
import type { Upstream, UpstreamDeps, UpstreamHooks } from './types.js';

/**
 * Loads the connections' code now (soon after the daemon is ready): a daemon whose servers are
 * all lazy would otherwise load it on the first wake, hours later perhaps, from files an upgrade
 * of mcpd may have replaced meanwhile.
 */
export async function preloadUpstreams(): Promise<void> {
  await Promise.all([import('./stdio/connection.js'), import('./http/connection.js')]);
}

/** A local server is spawned here; a remote one connects at `initialize`. */
export async function openUpstream(config: ServerConfig, deps: UpstreamDeps, hooks: UpstreamHooks): Promise<Upstream> {
  if (config.transport !== 'stdio') {
    const { HttpUpstream } = await import('./http/connection.js');
    return new HttpUpstream(config, deps, hooks);
  }
  const child = await spawnServer(config, deps);
  try {
    const { StdioUpstream } = await import('./stdio/connection.js');
    return StdioUpstream.open(config, deps, hooks, child);
  } catch (error) {
    // Nothing owns the process yet: it must not outlive this failure.
    child.killNow();
    void child.exited.then(() => child.sweepGroup()).then(() => deps.children.remove(child.pid));
    throw error;
  }
}
