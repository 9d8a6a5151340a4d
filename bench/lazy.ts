/**
 * Servers that cost nothing until used (issue 24), against ten server-everything, each figure
 * beside a direct SDK client's measured in the same run:
 * - `mcpd start` until every server's tools are listable (eager), against a script of ten
 *   parallel direct SDK connects that each list their tools (both from a fresh node process,
 *   their servers in the same environment; the script's also in the SDK's default one);
 * - `mcpd start` of the same ten, lazy, with remembered catalogues (no server spawned);
 * - the first call to an idle server, against that server's own cold start (spawn, initialize,
 *   the call) through a direct SDK client;
 * - the whole process tree's RSS, eager and idle, and lazy after the idle stop.
 *
 * `npx tsx bench/lazy.ts` runs it alone (after `npm run build`); `npm run bench` runs it with the rest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execa } from 'execa';
import { ControlClient } from '../src/client/control-client.js';
import type { DaemonStatus } from '../src/protocol/types.js';
import { processTree, treeRss } from './memory.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/bundle/mcpd.js');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const MB = 1_000_000;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const spread = (values: number[], digits = 2) => `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const everything = (extra: Record<string, unknown> = {}) => ({ command: process.execPath, args: [EVERYTHING, 'stdio'], ...extra });
const ten = (extra: Record<string, unknown> = {}) => Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`e${i}`, everything(extra)]));

/** A home and config of its own, driven by the CLI as a person runs it. */
function sandbox(config: unknown) {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-bench-lazy-'));
  const home = join(dir, 'home');
  const file = join(dir, 'mcp.config.json');
  writeFileSync(file, JSON.stringify(config));
  const mcpd = (args: string[]) => execa(process.execPath, [CLI, ...args, '--home', home], { cwd: dir, reject: false, timeout: 120_000 });
  const status = async (): Promise<DaemonStatus> => {
    const control = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
    try {
      return await control.request('status', {});
    } finally {
      control.close();
    }
  };
  return {
    dir,
    home,
    file,
    mcpd,
    status,
    /**
     * Seconds from the spawn of `mcpd start` until it says the daemon is ready (its first line,
     * printed once every server's tools are listable), as the direct script is timed until its
     * "ready"; neither's exit is counted.
     */
    async start(): Promise<number> {
      const t0 = performance.now();
      const child = execa(process.execPath, [CLI, 'start', '--config', file, '--home', home], {
        cwd: dir,
        reject: false,
        timeout: 120_000,
        buffer: false,
      });
      let said: number | undefined;
      child.stdout.once('data', () => {
        said = performance.now();
      });
      const result = await child;
      if (result.exitCode !== 0 || said === undefined) throw new Error(`mcpd start failed (exit ${result.exitCode})`);
      return (said - t0) / 1000;
    },
    async stop(): Promise<void> {
      await mcpd(['stop']);
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Ten direct SDK clients, connected in parallel, each listing its tools, as a script a person
 * runs (a fresh node process, as `mcpd start` is): seconds from its spawn to its exit. `sameEnv`:
 * its servers get the shell's environment, as mcpd gives its servers; without it they get the
 * SDK's default (HOME, PATH and a few more), which on a machine with NODE_EXTRA_CA_CERTS set
 * spares every server node process loading that file at boot (~60 ms of CPU here).
 */
async function directConnects(n: number, sameEnv: boolean): Promise<number> {
  const script = `
    import { Client } from '@modelcontextprotocol/sdk/client/index.js';
    import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
    const clients = await Promise.all(Array.from({ length: ${n} }, async () => {
      const client = new Client({ name: 'bench', version: '0' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [${JSON.stringify(EVERYTHING)}, 'stdio'], stderr: 'ignore'${sameEnv ? ', env: process.env' : ''} }));
      await client.listTools();
      return client;
    }));
    process.stdout.write('ready\\n');
    await Promise.all(clients.map((c) => c.close()));`;
  const t0 = performance.now();
  const child = execa(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, timeout: 120_000, buffer: false });
  // Until all are listable (as `mcpd start` returns then); the clients' close is not counted.
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.catch(reject);
  });
  const took = (performance.now() - t0) / 1000;
  await child;
  return took;
}

/**
 * One server's own cold start through a direct SDK client: spawn, initialize, the first call (ms),
 * the server in the environment mcpd gives its servers (the shell's), as the eager row's.
 */
async function directColdCall(): Promise<number> {
  const t0 = performance.now();
  const client = new Client({ name: 'bench', version: '0' });
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [EVERYTHING, 'stdio'], stderr: 'ignore', env }));
  await client.callTool({ name: 'echo', arguments: { message: 'cold' } });
  const took = performance.now() - t0;
  await client.close();
  return took;
}

async function waitIdle(status: () => Promise<DaemonStatus>, timeoutMs = 60_000): Promise<DaemonStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await status();
    if (s.servers.every((x) => x.state === 'idle')) return s;
    if (Date.now() > deadline) throw new Error('the lazy servers did not all go idle');
    await sleep(200);
  }
}

export async function lazyBench({ quick }: { quick: boolean }): Promise<string[]> {
  const reps = quick ? 2 : 5;
  const settle = quick ? 5_000 : 15_000;

  // 1. Eager start, against direct connects (interleaved).
  const eager = sandbox({ servers: ten() });
  const eagerStarts: number[] = [];
  const directs: number[] = [];
  const directsDefaultEnv: number[] = [];
  let eagerTree = { bytes: 0, processes: 0 };
  try {
    for (let i = 0; i < reps; i += 1) {
      const round = async () => {
        eagerStarts.push(await eager.start());
        if (i === reps - 1) {
          await sleep(settle);
          eagerTree = treeRss((await eager.status()).pid);
        }
        await eager.stop();
      };
      // In an order that turns around each round: a machine getting busier weighs on both.
      if (i % 2 === 1) await round();
      directs.push(await directConnects(10, true));
      directsDefaultEnv.push(await directConnects(10, false));
      if (i % 2 === 0) await round();
    }
  } finally {
    await eager.stop();
    eager.cleanup();
  }

  // 2. Lazy: the first daemon learns, the servers go idle; the tree then; later daemons start from memory.
  const lazy = sandbox({ defaults: { start: 'lazy', idleStopMs: 2_000 }, servers: ten() });
  const lazyStarts: number[] = [];
  const wakes: number[] = [];
  const colds: number[] = [];
  let lazyTree = { bytes: 0, processes: 0 };
  let spawnedAtStart = 0;
  try {
    await lazy.start();
    await waitIdle(lazy.status);
    await sleep(settle);
    lazyTree = treeRss((await lazy.status()).pid);
    await lazy.stop();
    for (let i = 0; i < reps; i += 1) {
      lazyStarts.push(await lazy.start());
      const status = await lazy.status();
      spawnedAtStart = Math.max(spawnedAtStart, processTree(status.pid).length - 1);
      // The first call to an idle server (a new one each round), against the server's own cold start.
      colds.push(await directColdCall());
      const control = await ControlClient.connect({ socketPath: join(lazy.home, 'mcpd.sock') });
      try {
        const t0 = performance.now();
        await control.request('tools.call', { name: `e${i}__echo`, arguments: { message: 'wake' } });
        wakes.push(performance.now() - t0);
      } finally {
        control.close();
      }
      await lazy.stop();
    }
  } finally {
    await lazy.stop();
    lazy.cleanup();
  }

  const s = (values: number[]) => `**${median(values).toFixed(2)} s** (${spread(values)})`;
  const ms = (values: number[]) => `**${median(values).toFixed(0)} ms** (${spread(values, 0)})`;
  return [
    `Servers that cost nothing until used: ten server-everything, ${reps} rounds, medians (min–max).`,
    '',
    '| measure | mcpd | direct SDK client, same run | target |',
    '|---|---|---|---|',
    `| eager: \`mcpd start\` until all tools are listable / a script of 10 parallel connects + tools/list, its servers in the same environment | ${s(eagerStarts)} | ${s(directs)} | level with direct |`,
    `| the same script, its servers in the SDK's default environment${process.env['NODE_EXTRA_CA_CERTS'] ? " (without this machine's NODE_EXTRA_CA_CERTS)" : ''} | | ${s(directsDefaultEnv)} | |`,
    `| lazy, catalogues remembered: \`mcpd start\` (${spawnedAtStart} server processes spawned) | ${s(lazyStarts)} | | < 1.5 s, none spawned |`,
    `| first call to an idle server / that server's own cold start (spawn, initialize, call; the same environment) | ${ms(wakes)} | ${ms(colds)} | ≤ cold start + 100 ms |`,
    `| whole tree RSS, eager, idle ${settle / 1000} s (${eagerTree.processes} processes) | **${(eagerTree.bytes / MB).toFixed(0)} MB** | | |`,
    `| whole tree RSS, lazy, after the idle stop (${lazyTree.processes} process${lazyTree.processes === 1 ? '' : 'es'}) | **${(lazyTree.bytes / MB).toFixed(0)} MB** | | ≤ 150 MB, no server process |`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await lazyBench({ quick: process.argv.includes('--quick') })).join('\n'));
