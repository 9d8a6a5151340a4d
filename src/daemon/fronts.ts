/**
 * The fronts of one daemon, each handed the ports it uses: the control socket, the bridge's MCP
 * socket, the HTTP gateway (when configured), and the dashboard, which rides on the gateway when
 * that is loopback and otherwise has a port of its own.
 */
import type { GatewayConfig } from '../config/types.js';
import type { ControlFront } from '../fronts/control/front.js';
import type { DashboardFront } from '../fronts/ui/front.js';
import type { HomePaths } from '../home/paths.js';
import type { Logger } from '../logs/store.js';
import type { Front, Ports } from '../ports/index.js';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/files.js';
import { isLoopbackHost } from '../util/loopback.js';

export interface FrontsOptions {
  paths: HomePaths;
  gateway: GatewayConfig['http'];
  log: Logger;
  /** The ports, once the dashboard (the `ui` port) exists. */
  ports: (ui: Ports['ui']) => Ports;
}

/**
 * In start order: the control socket first, the dashboard last. The fronts' code loads once the
 * first servers are spawned (daemon.ts); the bridge socket's MCP sessions (both SDK lines' server side, half the daemon's
 * code) only once the daemon is ready or a bridge connects (its warm()), so that compiling them
 * does not take CPU from the servers' own start-up. The HTTP gateway, when configured, loads with
 * the rest.
 */
export async function makeFronts({ paths, gateway: http, log, ports: portsFor }: FrontsOptions): Promise<Front[]> {
  const [{ ControlFront }, { DashboardFront }, McpHttpFront, { McpSocketFront }] = await Promise.all([
    import('../fronts/control/front.js'),
    import('../fronts/ui/front.js'),
    http ? import('../fronts/mcp-http/front.js').then((m) => m.McpHttpFront) : undefined,
    import('../fronts/mcp-socket/front.js'),
  ]);
  let control: ControlFront | undefined;
  let gateway: InstanceType<NonNullable<typeof McpHttpFront>> | undefined;
  const onLoopback = http !== undefined && isLoopbackHost(http.host);
  const dashboard: DashboardFront = new DashboardFront({
    home: paths.home,
    log,
    accept: (req, socket, head, scope) => control!.accept(req, socket, head, scope),
    hasAppView: (view) => ports.apps.get(view) !== undefined,
    ...(onLoopback ? { gatewayUrl: () => gateway!.url } : {}),
    ports: () => (gateway?.url ? [Number(new URL(gateway.url).port)] : []),
  });
  const ports = portsFor(dashboard);
  control = new ControlFront(ports, { socketPath: paths.socket, log });
  if (http && McpHttpFront) {
    const token = http.token ?? (onLoopback ? localToken(paths, log) : undefined);
    gateway = new McpHttpFront(ports, { ...http, token, log, ui: onLoopback ? dashboard.handler : undefined });
  }
  return [control, new McpSocketFront(ports, { socketPath: paths.mcpSocket, log }), ...(gateway ? [gateway] : []), dashboard];
}

/**
 * Loopback is this machine, not this user. On Linux the gateway tells other users' connections by
 * their uid; elsewhere a loopback gateway without a token of its own gets one, kept in
 * MCPD_HOME/gateway.token (0600), which only this user can read.
 */
function localToken(paths: HomePaths, log: Logger): string | undefined {
  if (process.platform === 'linux') return undefined;
  const file = join(paths.home, 'gateway.token');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  } catch {
    // none yet
  }
  const token = randomBytes(24).toString('base64url');
  writeFileAtomic(file, `${token}\n`);
  log.info(`HTTP gateway: other users of this machine could reach it; it takes Authorization: Bearer <the token in ${file}>`);
  return token;
}
