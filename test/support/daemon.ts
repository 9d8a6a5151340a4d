/** Starting a real Daemon in a temp home on a config written to disk, for integration tests. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlClient } from '../../src/client/control-client.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { tempDir } from './fixtures.js';

export interface TestDaemon {
  /** The running daemon (replaced by restart()). */
  daemon: Daemon;
  /** Stops the daemon and starts a new one on the same home and config. */
  restart(): Promise<void>;
  home: string;
  configFile: string;
  connect(): Promise<ControlClient>;
  writeConfig(config: unknown): void;
  stop(): Promise<void>;
}

export async function startDaemon(
  config: unknown,
  options: { watchConfig?: boolean; env?: NodeJS.ProcessEnv; beforeStart?: (configDir: string) => void } = {},
): Promise<TestDaemon> {
  const dir = tempDir('mcpd-d-');
  options.beforeStart?.(dir.path);
  const configFile = join(dir.path, 'mcp.config.json');
  const writeConfig = (c: unknown) => writeFileSync(configFile, JSON.stringify(c, null, 2));
  writeConfig(config);
  const home = join(dir.path, 'home');
  const start = () =>
    Daemon.start({ home, configFile, watchConfig: options.watchConfig ?? false, random: () => 0.5, env: options.env ?? {} });
  const clients: ControlClient[] = [];
  const t: TestDaemon = {
    daemon: await start(),
    async restart() {
      for (const c of clients.splice(0)) c.close();
      await t.daemon.stop('test restart');
      t.daemon = await start();
    },
    home,
    configFile,
    writeConfig,
    async connect() {
      const client = await ControlClient.connect({ socketPath: t.daemon.paths.socket });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const c of clients) c.close();
      await t.daemon.stop('test done');
      dir.cleanup();
    },
  };
  return t;
}
