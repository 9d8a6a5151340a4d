/**
 * The daemon's memory as a person's machine sees it (RSS, from /proc): with 10 idle servers, and
 * after a 16 MiB result went through it, sampled until it is back under 100 MB (or 30 s passed).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startBenchDaemon } from './daemon.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture.mjs');
const MB = 1_000_000;

function rss(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function memoryBench({ quick }: { quick: boolean }): Promise<string[]> {
  const servers = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`fx${i}`, { command: process.execPath, args: [FIXTURE] }]));
  const bench = await startBenchDaemon({ servers });
  const { control, process: daemon } = bench;
  try {
    if (!daemon.pid) throw new Error('the memory bench daemon has no pid');
    // Starting allocates more than idling does; V8's memory reducer gives that back on its own
    // some seconds later. Both are shown: soon after ready, and settled.
    await sleep(5_000);
    const soon = rss(daemon.pid);
    if (soon === undefined) return ['Memory: not measured (no /proc on this system).'];
    await sleep(quick ? 10_000 : 20_000);
    const idle = rss(daemon.pid)!;
    await control.request('tools.call', { name: 'fx0__big', arguments: { bytes: 16 * 1024 * 1024 } });
    let peak = rss(daemon.pid)!;
    const t0 = Date.now();
    let after = peak;
    while (Date.now() - t0 < 30_000) {
      after = rss(daemon.pid)!;
      peak = Math.max(peak, after);
      if (after < 100 * MB) break;
      await sleep(250);
    }
    const took = (Date.now() - t0) / 1000;
    control.close();
    return [
      "Memory: the daemon's RSS (`/proc/PID/status`, VmRSS), as a person's task manager shows it:",
      '',
      '| measure | MB | target |',
      '|---|---|---|',
      `| 10 servers (our fixture), 5 s after ready | ${(soon / MB).toFixed(0)} | |`,
      `| the same, idle, ${quick ? 15 : 25} s after ready | **${(idle / MB).toFixed(0)}** | ≤ 80 |`,
      `| right after a 16 MiB result went through the control socket | ${(peak / MB).toFixed(0)} | |`,
      `| then, ${after < 100 * MB ? `back under 100 MB after **${took.toFixed(1)} s**` : `still over 100 MB after 30 s`} | **${(after / MB).toFixed(0)}** | < 100 within 30 s |`,
    ];
  } finally {
    await bench.stop();
  }
}
