/**
 * Tool-call latency and throughput through mcpd (a daemon process) against a direct MCP SDK stdio
 * client to the same server, in one run, through each front: the control socket (as the CLI
 * does), `mcpd bridge` (as a stdio host does) and the HTTP gateway (an SDK Streamable HTTP client).
 *
 *   npm run bench            (BENCH_QUICK=1 for a short run)
 *
 * Cases: 1 KiB payloads through server-everything's `echo`; 1 MiB results through our fixture's
 * `big` (a request above the socket's 1 MiB message limit cannot be sent, by design, so the
 * large payload travels in the result, where tool output is large in practice).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { execa } from 'execa';
import { ControlClient } from '../src/control/client.js';
import { freePort } from '../test/support/fixtures.js';
import { abortIsolatingFetch } from '../src/transport/isolated-fetch.js';

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
  /** The same call through each front of mcpd. */
  via: Record<string, Call>;
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

/**
 * An HTTP server that answers `initialize` and every call with a canned JSON result: no MCP
 * server behind it. The SDK's HTTP client against it is the floor of any HTTP gateway.
 */
const CANNED_HTTP = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const msg = body ? JSON.parse(body) : undefined;
    if (!msg || msg.id === undefined) return res.writeHead(req.method === 'POST' ? 202 : 405).end();
    const result = msg.method === 'initialize'
      ? { protocolVersion: msg.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'canned', version: '0' } }
      : { content: [{ type: 'text', text: msg.params?.arguments?.message ?? '' }] };
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'canned' }).end(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Connects an SDK HTTP client, retrying while the server comes up. */
async function httpClient(url: string): Promise<Client> {
  for (let attempt = 0; ; attempt += 1) {
    const client = new Client({ name: 'bench', version: '0' });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: abortIsolatingFetch() }));
      return client;
    } catch (error) {
      if (attempt > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** One request through `mcpd bridge`, reading its stdout line by line (no SDK, no size limit). */
async function rawBridgeCall(home: string, method: string, params: unknown): Promise<unknown> {
  const bridge = execa(process.execPath, [join(ROOT, 'dist/bundle/mcpd.js'), 'bridge', '--home', home], { reject: false, buffer: false, stderr: 'ignore' });
  const send = (message: unknown) => bridge.stdin!.write(`${JSON.stringify({ jsonrpc: '2.0', ...(message as object) })}\n`);
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method, params });
  let pending = '';
  try {
    for await (const chunk of bridge.stdout!) {
      pending += String(chunk);
      for (let index = pending.indexOf('\n'); index !== -1; index = pending.indexOf('\n')) {
        const message = JSON.parse(pending.slice(0, index)) as { id?: number; result?: unknown };
        pending = pending.slice(index + 1);
        if (message.id === 2) return message.result;
      }
    }
    return undefined;
  } finally {
    bridge.kill('SIGTERM');
    await bridge;
  }
}

const fmt = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
const ratio = (a: number, b: number) => (a / b).toFixed(2);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpd-bench-'));
  const home = join(dir, 'home');
  const config = join(dir, 'mcp.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      servers: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] }, fx: { command: process.execPath, args: [FIXTURE] } },
      gateway: { http: { port: 0 } },
    }),
  );
  const daemon = execa(process.execPath, [...(process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter(Boolean), join(ROOT, 'dist/bundle/mcpd.js'), 'serve', '--home', home, '--config', config], { reject: false });
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

    const sdkClient = async (transport: Transport) => {
      const client = new Client({ name: 'bench', version: '0' });
      await client.connect(transport);
      return client;
    };
    const stdio = (args: string[]) => new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' });
    const everything = await sdkClient(stdio([EVERYTHING, 'stdio']));
    const fixture = await sdkClient(stdio([FIXTURE]));
    const bridge = await sdkClient(stdio([join(ROOT, 'dist/bundle/mcpd.js'), 'bridge', '--home', home]));
    const gateway = (await control.request('status', {})).fronts.find((f) => f.name === 'mcp-http')!.address;
    const http = await httpClient(`${gateway}/mcp`);
    // For hosts that speak HTTP: the same server over its own Streamable HTTP (the SDK's server
    // transport, in server-everything), and a canned answer with no server at all (the floor).
    const everythingPort = await freePort();
    const everythingHttpProcess = execa(process.execPath, [EVERYTHING, 'streamableHttp'], { env: { PORT: String(everythingPort) }, reject: false, stdio: 'ignore' });
    const cannedProcess = execa(process.execPath, ['-e', CANNED_HTTP], { reject: false, buffer: false });
    const cannedPort = await new Promise<string>((resolve) => cannedProcess.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const everythingHttp = await httpClient(`http://127.0.0.1:${everythingPort}/mcp`);
    const canned = await httpClient(`http://127.0.0.1:${cannedPort}/mcp`);

    const kib = 'x'.repeat(1024);
    const mib = 1024 * 1024;
    const cases: Case[] = [
      {
        name: 'echo 1 KiB',
        latencyCalls: QUICK ? 200 : 2000,
        throughputCalls: QUICK ? 500 : 5000,
        direct: () => everything.callTool({ name: 'echo', arguments: { message: kib } }),
        via: {
          control: () => control.request('tools.call', { name: 'everything__echo', arguments: { message: kib } }),
          bridge: () => bridge.callTool({ name: 'everything__echo', arguments: { message: kib } }),
          http: () => http.callTool({ name: 'everything__echo', arguments: { message: kib } }),
          'HTTP floor (canned answer, no mcpd)': () => canned.callTool({ name: 'echo', arguments: { message: kib } }),
        },
      },
      {
        name: 'echo 1 KiB, HTTP client',
        latencyCalls: QUICK ? 200 : 2000,
        throughputCalls: QUICK ? 500 : 5000,
        direct: () => everythingHttp.callTool({ name: 'echo', arguments: { message: kib } }),
        via: {
          http: () => http.callTool({ name: 'everything__echo', arguments: { message: kib } }),
        },
      },
      {
        name: '1 MiB result',
        latencyCalls: QUICK ? 30 : 200,
        throughputCalls: QUICK ? 60 : 400,
        direct: () => fixture.callTool({ name: 'big', arguments: { bytes: mib } }),
        via: {
          control: () => control.request('tools.call', { name: 'fx__big', arguments: { bytes: mib } }),
          bridge: () => bridge.callTool({ name: 'fx__big', arguments: { bytes: mib } }),
          http: () => http.callTool({ name: 'fx__big', arguments: { bytes: mib } }),
        },
      },
    ];

    const rows: string[] = [];
    // The daemon's own CPU (user + system, from /proc), per call through the control socket.
    const cpuPerCall = new Map<string, number>();
    const daemonCpuMs = (): number | undefined => {
      try {
        const fields = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
      } catch {
        return undefined; // not Linux
      }
    };
    const only = process.env['BENCH_ONLY'];
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      const d1 = await latency(c.direct, c.latencyCalls);
      const dt = await throughput(c.direct, c.throughputCalls, 16);
      for (const [front, call] of Object.entries(c.via)) {
        const m1 = await latency(call, c.latencyCalls);
        const cpu0 = daemonCpuMs();
        const mt = await throughput(call, c.throughputCalls, 16);
        if (front === 'control' && cpu0 !== undefined) cpuPerCall.set(c.name, ((daemonCpuMs()! - cpu0) * 1000) / c.throughputCalls);
        rows.push(
          `| ${c.name} | ${front} | ${fmt(d1.p50)} | ${fmt(m1.p50)} | **${ratio(m1.p50, d1.p50)}×** | ${fmt(d1.p99)} | ${fmt(m1.p99)} | ${dt.toFixed(0)} | ${mt.toFixed(0)} | **${ratio(mt, dt)}×** |`,
        );
      }
    }

    // No payload limit below 16 MiB on a result, through the whole path of every front.
    const isBig = (result: unknown) => ((result as { content?: { text?: string }[] } | undefined)?.content?.[0]?.text?.length ?? 0) === 16 * mib;
    const bigArgs = { name: 'fx__big', arguments: { bytes: 16 * mib } };
    const bigOk = only
      ? {}
      : {
          control: isBig(await control.request('tools.call', bigArgs)),
          // The SDK's own stdio client refuses lines over 10 MiB, so the bridge is read raw here.
          bridge: isBig(await rawBridgeCall(home, 'tools/call', bigArgs)),
          http: isBig(await http.callTool(bigArgs)),
        };

    console.log(`\nmcpd bench — node ${process.version}, ${QUICK ? 'quick' : 'full'} run; latency in ms (1 in flight), throughput in calls/s (16 in flight)\n`);
    console.log('| case | via | direct p50 | mcpd p50 | p50 ratio | direct p99 | mcpd p99 | direct calls/s | mcpd calls/s | throughput ratio |');
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    for (const [name, us] of cpuPerCall) console.log(`\nDaemon CPU per call (${name}, control socket, 16 in flight): ${us.toFixed(0)} µs (target 25 µs)`);
    console.log(`\n16 MiB result: ${Object.entries(bigOk).map(([front, ok]) => `${front} ${ok ? 'ok' : 'FAILED'}`).join(', ')}`);
    // One-shot commands: the time a person waits, against a bare `node -e 0` (median of runs).
    const cli = join(ROOT, 'dist/bundle/mcpd.js');
    const oneShot = (args: string[]) => {
      const runs: number[] = [];
      for (let i = 0; i < (QUICK ? 7 : 21); i += 1) {
        const t0 = performance.now();
        execFileSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, MCPD_HOME: home } });
        runs.push(performance.now() - t0);
      }
      return runs.sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    };
    const bare = oneShot(['-e', '0']);
    const cliRows = [
      ['mcpd --version', oneShot([cli, '--version'])],
      ['mcpd status', oneShot([cli, 'status'])],
      ['mcpd call everything__echo', oneShot([cli, 'call', 'everything__echo', '{"message":"hi"}'])],
    ] as const;
    console.log(`\nOne-shot CLI (median ms; bare node -e 0: ${fmt(bare)}; target: within 40 ms of it)\n`);
    console.log('| command | ms | over bare node |');
    console.log('|---|---|---|');
    for (const [label, ms] of cliRows) console.log(`| ${label} | ${fmt(ms)} | **+${fmt(ms - bare)}** |`);
    console.log('Targets: control socket p50 ≤ 1.5× and throughput ≥ 0.8×; HTTP gateway p50 ≤ 2.5×.');
    console.log('"echo 1 KiB, HTTP client": direct is the SDK HTTP client to server-everything\'s own Streamable HTTP endpoint.');
    console.log('"HTTP floor": the SDK HTTP client against a canned JSON answer (no MCP server, no mcpd), compared with direct stdio.');
    control.close();
    await Promise.allSettled([everything, fixture, bridge, http, everythingHttp, canned].map((c) => c.close()));
    everythingHttpProcess.kill('SIGTERM');
    cannedProcess.kill('SIGTERM');
    await Promise.allSettled([everythingHttpProcess, cannedProcess]);
  } finally {
    daemon.kill('SIGTERM');
    await daemon;
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
