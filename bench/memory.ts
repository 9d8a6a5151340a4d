/**
 * The daemon's memory as a person's machine sees it (RSS, from /proc): with 10 idle servers, and
 * after a 16 MiB result went through it, sampled until it is back under 100 MB (or 30 s passed).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Every process under `root` (itself included), from the parent ids in /proc/PID/stat. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  for (const queue = [root]; queue.length > 0;) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The RSS of a whole tree (each process's VmRSS summed, as a task manager adds them up). */
export function treeRss(root: number): { bytes: number; processes: number } {
  const pids = processTree(root);
  return { bytes: pids.reduce((sum, pid) => sum + (rss(pid) ?? 0), 0), processes: pids.length };
}

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

/**
 * What mcpd and its servers hold together once idle (issue 24's starting point): the bundled
 * config, and ten server-everything.
 */
export async function treeMemoryBench({ quick }: { quick: boolean }): Promise<string[]> {
  const sandbox = mkdtempSync(join(tmpdir(), 'mcpd-bench-tree-'));
  const pkg = (name: string) => join(ROOT, 'node_modules/@modelcontextprotocol', name, 'dist/index.js');
  const configs: [string, Record<string, unknown>][] = [
    [
      'bundled `mcp.config.json` (everything, memory, filesystem)',
      {
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
        memory: { command: process.execPath, args: [pkg('server-memory')], env: { MEMORY_FILE_PATH: join(sandbox, 'memory.jsonl') } },
        fs: { command: process.execPath, args: [pkg('server-filesystem'), sandbox] },
      },
    ],
    [
      '10 server-everything',
      Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`e${i}`, { command: process.execPath, args: [EVERYTHING, 'stdio'] }])),
    ],
  ];
  const rows: string[] = [];
  try {
    for (const [label, servers] of configs) {
      const bench = await startBenchDaemon({ servers });
      try {
        await sleep(quick ? 5_000 : 15_000);
        const tree = treeRss(bench.process.pid!);
        rows.push(`| ${label}, eager, idle | ${tree.processes} | **${(tree.bytes / MB).toFixed(0)}** |`);
      } finally {
        bench.control.close();
        await bench.stop();
      }
    }
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
  return [
    'The whole tree: the daemon and every process under it (its servers and theirs), VmRSS summed from `/proc` (shared pages counted in each process, as a task manager adds them):',
    '',
    '| config | processes | MB |',
    '|---|---|---|',
    ...rows,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await treeMemoryBench({ quick: false })).join('\n'));
