/**
 * Tool-call latency and throughput through mcpd (a daemon process) against a direct MCP SDK stdio
 * client to the same server, in one run, through each front: the control socket (as the CLI
 * does), `mcpd bridge` (as a stdio host does) and the HTTP gateway (an SDK Streamable HTTP client).
 *
 *   npm run bench              the full run: 7 rounds; writes the README's table
 *   npm run bench -- --quick   a one-minute check: 5 short rounds; writes nothing
 *
 * Each round runs every path of a case one after the other, in an order that alternates from
 * round to round (direct first, then last), so that a machine getting busier or quieter weighs on
 * both alike; the figures are the median of the rounds' own figures, with their spread. The CPU
 * the daemon and the server spend per call is read from /proc around each throughput run.
 *
 * Cases: 1 KiB payloads through server-everything's `echo`; 1 MiB results through our fixture's
 * `big` (a request above the socket's 1 MiB message limit cannot be sent, by design, so the
 * large payload travels in the result, where tool output is large in practice).
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpTransportV2 } from '@modelcontextprotocol/client';
import { execa } from 'execa';
import { ControlClient } from '../src/client/control-client.js';
import { startBenchDaemon } from './daemon.js';
import { freePort } from '../test/support/fixtures.js';
import { abortIsolatingFetch } from '../src/upstream/http/isolated-fetch.js';
import { catalogueBench } from './catalogue.js';
import { lazyBench } from './lazy.js';
import { memoryBench, treeMemoryBench } from './memory.js';
import { uiLoadBench } from './ui-load.js';

const ROOT = resolve(import.meta.dirname, '..');
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FIXTURE = join(ROOT, 'test/fixtures/mcp-fixture.mjs');
const QUICK = process.argv.includes('--quick') || process.env['BENCH_QUICK'] === '1';
const ROUNDS = QUICK ? 5 : 7;

type Call = () => Promise<unknown>;

/** The paths through bench/relay-floor.mjs: as the control socket (WebSocket), and with no WebSocket at all. */
const FLOOR = 'relay floor: a bare Node relay over ws (bench/relay-floor.mjs), no mcpd';
const NDJSON_FLOOR = 'relay floor without WebSocket: the same, one JSON message per line';

/** A client of the relay floor's `--ndjson` front: JSON-RPC, one message per line, on a Unix socket. */
async function ndjsonClient(
  socketPath: string,
): Promise<{ request: (method: string, params: unknown) => Promise<unknown>; close: () => void; daemon: { serverPid?: number } }> {
  const socket = connect(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const waiting: Record<number, (result: unknown) => void> = Object.create(null) as Record<number, (result: unknown) => void>;
  let nextId = 0;
  let partial = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const message = JSON.parse(line) as { id: number; result: unknown };
      const resolve = waiting[message.id];
      delete waiting[message.id];
      resolve?.(message.result);
    }
  });
  const request = (method: string, params: unknown) =>
    new Promise<unknown>((resolve) => {
      const id = ++nextId;
      waiting[id] = resolve;
      socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  const hello = (await request('hello', { protocolVersion: 1 })) as { daemon: { serverPid?: number } };
  return { request, close: () => socket.destroy(), daemon: hello.daemon };
}

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
  for (let i = 0; i < Math.min(20, n); i += 1) await call(); // warm-up
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
const HTTP_FLOOR = "HTTP floor: the SDK's HTTP client and a canned answer, no mcpd";
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

/** A v2 SDK client pinned to 2026-07-28: no session, every request carries its own _meta. */
async function modernHttpClient(url: string): Promise<ClientV2> {
  const client = new ClientV2({ name: 'bench-2026', version: '0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new HttpTransportV2(new URL(url)));
  return client;
}

const PLAIN_2025 = 'http, plain client (fetch, a 2025 session)';
const PLAIN_2026 = 'http 2026-07-28, plain client (fetch, no session)';

/**
 * The two eras' requests sent the same way, with `fetch` and no SDK: the SDK clients of the two
 * lines cost differently themselves (the v2 one validates more), and on two cores a slower client
 * spreads the calls out, so the daemon batches fewer per write. These rows compare the daemon's
 * own cost per era on equal terms.
 */
async function plainHttpCallers(url: string) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
  const init = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench-plain', version: '0' } },
    }),
  });
  await init.text();
  const session = { ...headers, 'Mcp-Session-Id': init.headers.get('mcp-session-id') ?? '', 'MCP-Protocol-Version': '2025-11-25' };
  await fetch(url, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'bench-plain', version: '0' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  let id = 1;
  const post = async (init: RequestInit) => {
    const response = await fetch(url, { method: 'POST', ...init });
    const text = await response.text();
    if (!response.ok || !text.includes('"result"')) throw new Error(`plain HTTP call: ${response.status} ${text.slice(0, 200)}`);
  };
  return {
    session: (name: string, args: object) =>
      post({
        headers: session,
        body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name, arguments: args } }),
      }),
    sessionless: (name: string, args: object) =>
      post({
        headers: { ...headers, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': name },
        body: JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name, arguments: args, _meta: meta } }),
      }),
  };
}

/** One request through `mcpd bridge`, reading its stdout line by line (no SDK, no size limit). */
async function rawBridgeCall(home: string, method: string, params: unknown): Promise<unknown> {
  const bridge = execa(process.execPath, [join(ROOT, 'dist/bundle/mcpd.js'), 'bridge', '--home', home], {
    reject: false,
    buffer: false,
    stderr: 'ignore',
  });
  const send = (message: unknown) => bridge.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...(message as object) })}\n`);
  send({
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '0' } },
  });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method, params });
  let pending = '';
  try {
    for await (const chunk of bridge.stdout) {
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
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
/** The median of the rounds, with their spread: `1.62× (1.48–1.80)`. */
const spread = (values: number[], digits = 2, unit = '×') =>
  `${median(values).toFixed(digits)}${unit} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
const thousands = (n: number) => Math.round(n).toLocaleString('en-US').replace(/,/g, ' ');

/**
 * A process's CPU in ms, from /proc: the run time of all its threads in ns (schedstat: the GC's
 * helper threads count too), or else user + system time in clock ticks of 10 ms; undefined off
 * Linux or once it is gone.
 */
function cpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    if (ns > 0) return ns / 1e6;
  } catch {
    // no schedstat: the coarser figure below
  }
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

interface PathRound {
  p50: number;
  p99: number;
  callsPerSecond: number;
  /** CPU per call in µs during the throughput run, by process. */
  cpu: Record<string, number>;
}

async function measure(call: Call, c: Case, pids: Record<string, number | undefined>): Promise<PathRound> {
  const l = await latency(call, c.latencyCalls);
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const callsPerSecond = await throughput(call, c.throughputCalls, 16);
  const cpu: Record<string, number> = {};
  for (const [k, pid] of Object.entries(pids)) {
    const after = cpuMs(pid);
    if (after !== undefined && before[k] !== undefined) cpu[k] = ((after - before[k]) * 1000) / c.throughputCalls;
  }
  return { ...l, callsPerSecond, cpu };
}

async function main(): Promise<void> {
  const bench = await startBenchDaemon(
    {
      servers: {
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
        fx: { command: process.execPath, args: [FIXTURE] },
      },
      gateway: { http: { port: 0 } },
    },
    (process.env['BENCH_DAEMON_NODE_ARGS'] ?? '').split(' ').filter(Boolean),
  );
  const { control, home, process: daemon } = bench;
  const report: string[] = [];
  try {
    const sdkClient = async (transport: Transport) => {
      const client = new Client({ name: 'bench', version: '0' });
      await client.connect(transport);
      return client;
    };
    const stdio = (args: string[]) => new StdioClientTransport({ command: process.execPath, args, stderr: 'ignore' });
    const everythingTransport = stdio([EVERYTHING, 'stdio']);
    const fixtureTransport = stdio([FIXTURE]);
    const everything = await sdkClient(everythingTransport);
    const fixture = await sdkClient(fixtureTransport);
    const bridge = await sdkClient(stdio([join(ROOT, 'dist/bundle/mcpd.js'), 'bridge', '--home', home]));
    const status = await control.request('status', {});
    const gateway = status.fronts.find((f) => f.name === 'mcp-http')!.address;
    const serverPid = (name: string) => status.servers.find((s) => s.name === name)?.pid ?? undefined;
    const http = await httpClient(`${gateway}/mcp`);
    const http2026 = await modernHttpClient(`${gateway}/mcp`);
    const plain = await plainHttpCallers(`${gateway}/mcp`);
    // For hosts that speak HTTP: the same server over its own Streamable HTTP (the SDK's server
    // transport, in server-everything), and a canned answer with no server at all (the floor).
    const everythingPort = await freePort();
    const everythingHttpProcess = execa(process.execPath, [EVERYTHING, 'streamableHttp'], {
      env: { PORT: String(everythingPort) },
      reject: false,
      stdio: 'ignore',
    });
    const cannedProcess = execa(process.execPath, ['-e', CANNED_HTTP], { reject: false, buffer: false });
    const cannedPort = await new Promise<string>((resolve) =>
      cannedProcess.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    const everythingHttp = await httpClient(`http://127.0.0.1:${everythingPort}/mcp`);
    const canned = await httpClient(`http://127.0.0.1:${cannedPort}/mcp`);
    // The floor of the control socket's path: a bare Node relay (bench/relay-floor.mjs), same
    // client, same protocol, same server, none of mcpd's work.
    const floorSocket = join(home, 'relay-floor.sock');
    const floorProcess = execa(process.execPath, [join(ROOT, 'bench/relay-floor.mjs'), floorSocket, EVERYTHING, 'stdio'], {
      reject: false,
      buffer: false,
    });
    await new Promise((resolve) => floorProcess.stdout.once('data', resolve));
    const floor = await ControlClient.connect({ socketPath: floorSocket });
    const ndjsonFloorSocket = join(home, 'relay-floor-ndjson.sock');
    const ndjsonFloorProcess = execa(
      process.execPath,
      [join(ROOT, 'bench/relay-floor.mjs'), '--ndjson', ndjsonFloorSocket, EVERYTHING, 'stdio'],
      { reject: false, buffer: false },
    );
    await new Promise((resolve) => ndjsonFloorProcess.stdout.once('data', resolve));
    const ndjsonFloor = await ndjsonClient(ndjsonFloorSocket);
    const floorPids: Record<string, Record<string, number | undefined>> = {
      [FLOOR]: { daemon: floorProcess.pid, server: (floor.daemon as { serverPid?: number }).serverPid },
      [NDJSON_FLOOR]: { daemon: ndjsonFloorProcess.pid, server: ndjsonFloor.daemon.serverPid },
      // No server behind it: its CPU per call is what node:http and JSON cost by themselves.
      [HTTP_FLOOR]: { daemon: cannedProcess.pid },
    };

    const kib = 'x'.repeat(1024);
    const mib = 1024 * 1024;
    const small = { latencyCalls: QUICK ? 150 : 600, throughputCalls: QUICK ? 600 : 3000 };
    const large = { latencyCalls: QUICK ? 10 : 40, throughputCalls: QUICK ? 24 : 100 };
    const cases: Case[] = [
      {
        name: 'echo 1 KiB',
        ...small,
        direct: () => everything.callTool({ name: 'echo', arguments: { message: kib } }),
        via: {
          control: () => control.request('tools.call', { name: 'everything__echo', arguments: { message: kib } }),
          bridge: () => bridge.callTool({ name: 'everything__echo', arguments: { message: kib } }),
          http: () => http.callTool({ name: 'everything__echo', arguments: { message: kib } }),
          'http 2026-07-28': () => http2026.callTool({ name: 'everything__echo', arguments: { message: kib } }),
          [PLAIN_2025]: () => plain.session('everything__echo', { message: kib }),
          [PLAIN_2026]: () => plain.sessionless('everything__echo', { message: kib }),
          [FLOOR]: () => floor.request('tools.call', { name: 'echo', arguments: { message: kib } }),
          [NDJSON_FLOOR]: () => ndjsonFloor.request('tools.call', { name: 'echo', arguments: { message: kib } }),
          [HTTP_FLOOR]: () => canned.callTool({ name: 'echo', arguments: { message: kib } }),
        },
      },
      {
        name: 'echo 1 KiB, HTTP client',
        ...small,
        direct: () => everythingHttp.callTool({ name: 'echo', arguments: { message: kib } }),
        via: {
          "http (direct: server-everything's own Streamable HTTP)": () =>
            http.callTool({ name: 'everything__echo', arguments: { message: kib } }),
        },
      },
      {
        name: '1 MiB result',
        ...large,
        direct: () => fixture.callTool({ name: 'big', arguments: { bytes: mib } }),
        via: {
          control: () => control.request('tools.call', { name: 'fx__big', arguments: { bytes: mib } }),
          bridge: () => bridge.callTool({ name: 'fx__big', arguments: { bytes: mib } }),
          http: () => http.callTool({ name: 'fx__big', arguments: { bytes: mib } }),
          'http 2026-07-28': () => http2026.callTool({ name: 'fx__big', arguments: { bytes: mib } }),
        },
      },
    ];

    const only = process.env['BENCH_ONLY'];
    const rows: string[] = [];
    const cpuRows: string[] = [];
    const started = performance.now();
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      const isEverything = c.name.startsWith('echo');
      const directPid = isEverything
        ? c.name.includes('HTTP client')
          ? everythingHttpProcess.pid
          : (everythingTransport.pid ?? undefined)
        : (fixtureTransport.pid ?? undefined);
      const viaServerPid = serverPid(isEverything ? 'everything' : 'fx');
      const paths: [string, Call, Record<string, number | undefined>][] = [
        ['direct', c.direct, { server: directPid }],
        ...Object.entries(c.via).map(([front, call]): [string, Call, Record<string, number | undefined>] => [
          front,
          call,
          floorPids[front] ?? { daemon: daemon.pid, server: viaServerPid },
        ]),
      ];
      const results = new Map<string, PathRound[]>(paths.map(([name]) => [name, []]));
      for (let round = 0; round < ROUNDS; round += 1) {
        // Interleaved: the order turns around every round.
        const order = round % 2 === 0 ? paths : [...paths].reverse();
        for (const [name, call, pids] of order) results.get(name)!.push(await measure(call, c, pids));
      }
      const direct = results.get('direct')!;
      for (const [front] of paths.slice(1)) {
        const via = results.get(front)!;
        const p50Ratios = via.map((r, i) => r.p50 / direct[i]!.p50);
        const tpRatios = via.map((r, i) => r.callsPerSecond / direct[i]!.callsPerSecond);
        rows.push(
          `| ${c.name} | ${front} | ${fmt(median(direct.map((r) => r.p50)))} | ${fmt(median(via.map((r) => r.p50)))} | **${spread(p50Ratios)}** | ${fmt(median(via.map((r) => r.p99)))} | ${thousands(median(direct.map((r) => r.callsPerSecond)))} | ${thousands(median(via.map((r) => r.callsPerSecond)))} | **${spread(tpRatios)}** |`,
        );
        const measuresRelay =
          front === 'control' || front.startsWith('http 2026-07-28') || front.startsWith('http,') || front === 'http' || front in floorPids;
        if (measuresRelay && via.every((r) => r.cpu['daemon'] !== undefined)) {
          const daemonUs = via.map((r) => r.cpu['daemon']!);
          const serverVia = via.map((r) => r.cpu['server'] ?? NaN);
          const serverDirect = direct.map((r) => r.cpu['server'] ?? NaN);
          const relay =
            front === FLOOR
              ? 'relay floor (ws)'
              : front === NDJSON_FLOOR
                ? 'relay floor (no WebSocket)'
                : front === HTTP_FLOOR
                  ? 'HTTP floor (node:http, a canned answer)'
                  : front === 'control'
                    ? 'mcpd, control socket'
                    : `mcpd, ${front.replace('http', 'HTTP gateway')}`;
          cpuRows.push(
            `| ${c.name} | ${relay} | **${spread(daemonUs, 0, ' µs')}** | ${serverVia.every(Number.isNaN) ? '—' : spread(serverVia, 0, ' µs')} | ${spread(serverDirect, 0, ' µs')} |`,
          );
        }
      }
    }
    const seconds = (performance.now() - started) / 1000;

    // No payload limit below 16 MiB on a result, through the whole path of every front.
    const isBig = (result: unknown) =>
      ((result as { content?: { text?: string }[] } | undefined)?.content?.[0]?.text?.length ?? 0) === 16 * mib;
    const bigArgs = { name: 'fx__big', arguments: { bytes: 16 * mib } };
    const bigOk = only
      ? {}
      : {
          control: isBig(await control.request('tools.call', bigArgs)),
          // The SDK's own stdio client refuses lines over 10 MiB, so the bridge is read raw here.
          bridge: isBig(await rawBridgeCall(home, 'tools/call', bigArgs)),
          http: isBig(await http.callTool(bigArgs)),
        };

    const cpu = cpus();
    report.push(
      `Run by \`npm run bench\`${QUICK ? ' -- --quick' : ''} on ${new Date().toISOString().slice(0, 10)}: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}, ${ROUNDS} rounds (${seconds.toFixed(0)} s), paths interleaved. Each figure is the median of the rounds' own, with their spread (min–max). Latency with 1 call in flight, throughput with 16.`,
      '',
      '| case | via | direct p50 ms | mcpd p50 ms | p50 ratio | mcpd p99 ms | direct calls/s | mcpd calls/s | throughput ratio |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
    );
    if (cpuRows.length > 0) {
      report.push(
        '',
        "CPU per call at 16 in flight, read from `/proc` around each throughput run: the relay process (mcpd's daemon, or the relay floor), and the server behind it and when called directly:",
        '',
        '| case | relay | relay CPU | server, behind it | server, direct |',
        '|---|---|---|---|---|',
        ...cpuRows,
      );
    }
    report.push(
      '',
      `16 MiB result: ${
        Object.entries(bigOk)
          .map(([front, ok]) => `${front} ${ok ? 'passes' : 'FAILED'}`)
          .join(', ') || 'not run'
      }.`,
    );

    // One-shot commands: the time a person waits, against a bare `node -e 0`. Interleaved run by
    // run (bare, then each command), so that a slower moment of the machine weighs on all alike.
    const cli = join(ROOT, 'dist/bundle/mcpd.js');
    const runOnce = (args: string[], input?: string) => {
      const t0 = performance.now();
      execFileSync(process.execPath, args, {
        stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'],
        input,
        env: { ...process.env, MCPD_HOME: home },
      });
      return performance.now() - t0;
    };
    // What a host waits for when it starts the bridge: its answer to initialize (then stdin ends).
    const initialize = `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '0' } } })}\n`;
    const commands: [string, string[], string?][] = [
      ['mcpd --version', [cli, '--version']],
      ['mcpd status', [cli, 'status']],
      ['mcpd call everything__echo', [cli, 'call', 'everything__echo', '{"message":"hi"}']],
      ['mcpd bridge: initialize answered, stdin closed', [cli, 'bridge'], initialize],
    ];
    const runs = QUICK ? 7 : 21;
    const bareRuns: number[] = [];
    const commandRuns = commands.map((): number[] => []);
    for (let i = 0; i < runs; i += 1) {
      bareRuns.push(runOnce(['-e', '0']));
      commands.forEach(([, args, input], k) => commandRuns[k]!.push(runOnce(args, input)));
    }
    const bare = median(bareRuns);
    const cliRows = commands.map(([label], k) => [label, median(commandRuns[k]!)] as const);
    report.push(
      '',
      `One-shot commands, median of ${runs} runs with the daemon up, interleaved with a bare \`node -e 0\` (${bare.toFixed(0)} ms):`,
      '',
      '| command | ms | over bare node |',
      '|---|---|---|',
    );
    for (const [label, ms] of cliRows) report.push(`| \`${label}\` | ${ms.toFixed(0)} | **+${(ms - bare).toFixed(0)}** |`);
    control.close();
    floor.close();
    ndjsonFloor.close();
    await Promise.allSettled([everything, fixture, bridge, http, http2026, everythingHttp, canned].map((c) => c.close()));
    const helpers = [everythingHttpProcess, cannedProcess, floorProcess, ndjsonFloorProcess];
    for (const helper of helpers) helper.kill('SIGTERM');
    await Promise.allSettled(helpers);
  } finally {
    await bench.stop();
  }

  if (!process.env['BENCH_ONLY']) {
    report.push('', ...(await memoryBench({ quick: QUICK })));
    report.push('', ...(await treeMemoryBench({ quick: QUICK })));
    report.push('', ...(await lazyBench({ quick: QUICK })));
    report.push('', ...(await uiLoadBench({ quick: QUICK })));
    report.push('', ...(await catalogueBench()));
  }
  const text = report.join('\n');
  console.log(`\n${text}\n`);
  if (!QUICK && !process.env['BENCH_ONLY']) {
    // The whole run in bench/README.md; its headline figures in the project's README.
    rewrite(join(ROOT, 'bench/README.md'), 'bench', text);
    rewrite(join(ROOT, 'README.md'), 'bench:summary', summary(report));
  }
}

function rewrite(file: string, marker: string, text: string): void {
  const current = readFileSync(file, 'utf8');
  const pattern = new RegExp(`<!-- ${marker}:start -->[\\s\\S]*<!-- ${marker}:end -->`);
  const next = current.replace(pattern, `<!-- ${marker}:start -->\n${text}\n<!-- ${marker}:end -->`);
  writeFileSync(file, next);
  console.log(`${file}: ${next === current ? 'unchanged' : 'rewritten from this run'}.`);
}

/** The headline figures of a run, as a short table: the control socket and the bridge, the HTTP gateway's CPU, the CLI, memory. */
function summary(report: string[]): string {
  const cells = (line: string) => line.split('|').map((c) => c.trim());
  const rows: [string, string][] = [];
  for (const line of report) {
    const c = cells(line);
    if ((c[1] === 'echo 1 KiB' || c[1] === '1 MiB result') && (c[2] === 'control' || c[2] === 'bridge')) {
      rows.push([`${c[1]} through ${c[2] === 'control' ? 'the control socket' : 'mcpd bridge'}`, `p50 ${c[5]} direct, throughput ${c[9]}`]);
    }
    // The daemon's CPU per HTTP call, each era with its SDK's client (the CPU table's rows).
    if (c[1] === 'echo 1 KiB' && (c[2] === 'mcpd, HTTP gateway' || c[2] === 'mcpd, HTTP gateway 2026-07-28'))
      rows.push([
        `daemon CPU per 1 KiB call, HTTP gateway ${c[2].endsWith('2026-07-28') ? '2026-07-28' : '2025-11-25 session'}`,
        `${c[3]}`,
      ]);
    if (c[1] === '`mcpd status`' || c[1] === '`mcpd call everything__echo`')
      rows.push([`${c[1]}, one-shot`, `${c[3]} ms over a bare node`]);
    if (c[1]?.startsWith('the same, idle')) rows.push(['daemon RSS with 10 idle servers', `${c[2]} MB`]);
    if (c[1] === '10 server-everything, eager, idle')
      rows.push(['whole tree (daemon and servers), 10 idle server-everything, eager', `${c[3]} MB`]);
    // Lazy servers (bench/lazy.ts): the tree after the idle stop, the first call, the starts.
    if (c[1]?.startsWith('whole tree RSS, lazy')) rows.push(['whole tree, 10 server-everything, lazy, after the idle stop', `${c[2]}`]);
    if (c[1]?.startsWith('first call to an idle server'))
      rows.push(["first call to an idle server / the server's own cold start", `${c[2]} / ${c[3]}`]);
    if (c[1]?.startsWith('lazy, catalogues remembered')) rows.push(['`mcpd start`, 10 lazy servers, catalogues remembered', `${c[2]}`]);
    if (c[1]?.startsWith('eager: `mcpd start`'))
      rows.push([
        '`mcpd start`, 10 eager server-everything / a script of 10 direct SDK connects (servers in the same environment)',
        `${c[2]} / ${c[3]}`,
      ]);
    // The catalogue table: what tool search and the search profile leave of the big config's definitions.
    if (c[1]?.startsWith('big:')) {
      rows.push(['big catalogue (5× everything, memory, fs): tool bytes loaded by a chat, with tool search', `${c[4]} of ${c[3]}`]);
      rows.push(['big catalogue: `tools/list` of a search profile', `${c[7]} of ${c[6]}`]);
    }
  }
  return ['| measure | figure |', '|---|---|', ...rows.map(([what, figure]) => `| ${what} | ${figure} |`)].join('\n');
}

await main();
