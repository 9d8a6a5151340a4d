/** The daemon itself: its status, its running config, reload and stop (daemon/daemon.ts). */
import type { ProfileConfig } from '../config/types.js';
import type { DaemonStatus, ReloadResult } from '../protocol/types.js';

export type { ProfileConfig };

export interface DaemonPort {
  status(): DaemonStatus;
  /** Throws MCPD_CLOSED once the daemon is stopping: new work is refused. */
  assertOpen(): void;
  /** A profile of the running config (gateway.profiles); throws MCPD_PROFILE_UNKNOWN. */
  profile(name: string): ProfileConfig;
  /** `ui.appLinks` of the running config: results for clients that cannot show an App get its link. */
  appLinks(): boolean;
  /** Whether this client (by its initialize name) is shown Apps by link only (`ui.linkClients`), whatever it declares. */
  linksOnly(client: string | undefined): boolean;
  reload(): Promise<ReloadResult>;
  stop(reason: string): Promise<void>;
}
