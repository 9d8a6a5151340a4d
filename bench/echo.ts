/**
 * Tool-call latency and throughput through mcpd (a daemon process, reached over its control
 * socket, as the CLI does) against a direct MCP SDK stdio client to the same server, in one run.
 *
 *   npm run bench            (BENCH_QUICK=1 for a short run)
 *
 * Cases: 1 KiB payloads through server-everything's `echo`; 1 MiB results through our fixture's
 * `big` (a request above the socket's 1 MiB message limit cannot be sent, by design, so the
 * large payload travels in the result, where tool output is large in practice).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execa } from 'execa';
import { ControlClient } from '../src/control/client.js';

const ROOT = resolve(import.meta.dirname, '..');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture.mjs');
const QUICK = process.env['BENCH_QUICK'] === '1';

type Call = () => Promise<unknown>;

interface Case {
  name: string;
  latencyCalls: number;
  throughputCalls: number;
  direct: Call;
  mcpd: Call;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function latency(call: Call, n: number): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(50, n); i += 1) await call(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t0 = performance.now();
    await call();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function throughput(call: Call, n: number, inFlight: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) {
        next += 1;
        await call();
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const ratio = (a: number, b: number) => (a / b).toFixed(2);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-bench-'));
  const home = join(dir, 'home');
  const config = join(dir, 'mcp.config.json');
  writeFileSync(config, JSON.stringify({ servers: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] }, fx: { command: process.execPath, args: [FIXTURE] } } }));
  const daemon = execa(process.execPath, [...(process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter(Boolean), join(ROOT, 'dist/cli/main.js'), 'serve', '--home', home, '--config', config], { reject: false });
  try {
    let control: ControlClient | undefined;
    for (let i = 0; i < 200 && !control; i += 1) {
      try {
        const c = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
        if ((await c.request('status', {})).ready) control = c;
        else c.close();
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!control) throw new Error('the daemon did not become ready');

    const direct = async (args: string[]) => {
      const client = new Client({ name: 'bench', version: '0' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' }));
      return client;
    };
    const everything = await direct([EVERYTHING, 'stdio']);
    const fixture = await direct([FIXTURE]);

    const kib = 'x'.repeat(1024);
    const mib = 1024 * 1024;
    const cases: Case[] = [
      {
        name: 'echo 1 KiB',
        latencyCalls: QUICK ? 200 : 2000,
        throughputCalls: QUICK ? 500 : 5000,
        direct: () => everything.callTool({ name: 'echo', arguments: { message: kib } }),
        mcpd: () => control.request('tools.call', { name: 'everything__echo', arguments: { message: kib } }),
      },
      {
        name: '1 MiB result',
        latencyCalls: QUICK ? 30 : 200,
        throughputCalls: QUICK ? 60 : 400,
        direct: () => fixture.callTool({ name: 'big', arguments: { bytes: mib } }),
        mcpd: () => control.request('tools.call', { name: 'fx__big', arguments: { bytes: mib } }),
      },
    ];

    const rows: string[] = [];
    const only = process.env['BENCH_ONLY'];
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      const d1 = await latency(c.direct, c.latencyCalls);
      const m1 = await latency(c.mcpd, c.latencyCalls);
      const dt = await throughput(c.direct, c.throughputCalls, 16);
      const mt = await throughput(c.mcpd, c.throughputCalls, 16);
      rows.push(
        `| ${c.name} | ${fmt(d1.p50)} | ${fmt(m1.p50)} | **${ratio(m1.p50, d1.p50)}×** | ${fmt(d1.p99)} | ${fmt(m1.p99)} | ${dt.toFixed(0)} | ${mt.toFixed(0)} | **${ratio(mt, dt)}×** |`,
      );
    }

    // No payload limit below 16 MiB on a result, through the whole path.
    const big = only ? undefined : await control.request('tools.call', { name: 'fx__big', arguments: { bytes: 16 * mib } });
    const bigOk = (big?.content[0] as { text?: string } | undefined)?.text?.length === 16 * mib;

    console.log(`\nmcpd bench — node ${process.version}, ${QUICK ? 'quick' : 'full'} run; latency in ms (1 in flight), throughput in calls/s (16 in flight)\n`);
    console.log('| case | direct p50 | mcpd p50 | p50 ratio | direct p99 | mcpd p99 | direct calls/s | mcpd calls/s | throughput ratio |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(`\n16 MiB result through mcpd: ${bigOk ? 'ok' : 'FAILED'}`);
    console.log('Targets: p50 ratio ≤ 1.5×, throughput ratio ≥ 0.8×.');
    control.close();
    await everything.close();
    await fixture.close();
  } finally {
    daemon.kill('SIGTERM');
    await daemon;
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
