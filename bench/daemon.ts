/** A daemon for a bench: `mcpd serve` on a config of its own, and a control client once it is ready. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { ControlClient } from '../src/client/control-client.js';

const ROOT = resolve(import.meta.dirname, '..');

export interface BenchDaemon {
  process: ResultPromise<{ reject: false }>;
  control: ControlClient;
  home: string;
  /** Stops the daemon and removes its folder. */
  stop(): Promise<void>;
}

export async function startBenchDaemon(config: unknown, nodeArgs: string[] = []): Promise<BenchDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-bench-'));
  const home = join(dir, 'home');
  const configFile = join(dir, 'mcp.config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const daemon = execa(
    process.execPath,
    [...nodeArgs, join(ROOT, 'dist/bundle/mcpd.js'), 'serve', '--home', home, '--config', configFile],
    { reject: false },
  );
  const stop = async () => {
    daemon.kill('SIGTERM');
    await daemon;
    rmSync(dir, { recursive: true, force: true });
  };
  // Up to 30 s for every server's first start to settle.
  for (let i = 0; i < 300; i += 1) {
    try {
      const control = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
      if ((await control.request('status', {})).ready) return { process: daemon, control, home, stop };
      control.close();
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error('the bench daemon did not become ready within 30 s');
}
