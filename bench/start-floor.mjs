/**
 * The floor of an eager `mcpd start` (issue 24): what a CLI in front of a daemon must cost at
 * least, against the direct script of bench/lazy.ts. The floor is a node process that spawns a
 * second one and waits for its "ready"; the second spawns ten server-everything with execa
 * first, then loads the bundled v2 client and connects to each over its pipes (era probe,
 * initialize, tools, resources and prompts listed, as mcpd does). No config, home, catalogue,
 * sockets or logs. Two variants load mcpd's daemon code (dist/bundle/daemon-*.js, with all it
 * imports) before or after the spawns, to show what loading it where costs. Rounds alternate
 * their order; medians (min–max) in seconds, from each process's spawn to its "ready".
 *
 *   npm run build && node bench/start-floor.mjs [ROUNDS]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import { execa } from 'execa';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/bundle/mcpd.js');
const DAEMON = join(
  ROOT,
  'dist/bundle',
  readdirSync(join(ROOT, 'dist/bundle')).find((f) => /^daemon-.*\.js$/.test(f)),
);
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const rounds = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'mcpd-start-floor-'));

const daemonSource = `
import { execa } from 'execa';
if (process.env.FLOOR_LOAD === 'before') await import(${JSON.stringify(DAEMON)});
const procs = Array.from({ length: 10 }, () =>
  execa(process.execPath, [${JSON.stringify(EVERYTHING)}, 'stdio'], {
    stdin: 'pipe', stdout: 'pipe', stderr: 'ignore', buffer: false, reject: false, detached: true, cleanup: false,
  }));
if (process.env.FLOOR_LOAD === 'after') await import(${JSON.stringify(DAEMON)});
const { Client } = await import('@modelcontextprotocol/client');
/** The least transport: newline-delimited JSON over the child's pipes. */
class Pipes {
  constructor(child) { this.child = child; this.partial = ''; }
  async start() {
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      const lines = (this.partial + text).split('\\n');
      this.partial = lines.pop();
      for (const line of lines) if (line.trim()) this.onmessage?.(JSON.parse(line));
    });
  }
  async send(message) { this.child.stdin.write(JSON.stringify(message) + '\\n'); }
  async close() { this.child.kill(); }
}
await Promise.all(procs.map(async (child) => {
  const client = new Client({ name: 'floor', version: '0' });
  await client.connect(new Pipes(child));
  await Promise.all([client.listTools(), client.listResources(), client.listPrompts()]);
}));
process.stdout.write('ready\\n');
for (const child of procs) child.kill();
process.exit(0);
`;
const cliSource = `
import { spawn } from 'node:child_process';
const daemon = spawn(process.execPath, [${JSON.stringify(join(dir, 'out/daemon.js'))}], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
daemon.stdout.once('data', () => { process.stdout.write('ready\\n'); process.exit(0); });
`;
const direct = `
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
const clients = await Promise.all(Array.from({ length: 10 }, async () => {
  const client = new Client({ name: 'bench', version: '0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [${JSON.stringify(EVERYTHING)}, 'stdio'], stderr: 'ignore', env: process.env }));
  await client.listTools();
  return client;
}));
process.stdout.write('ready\\n');
await Promise.all(clients.map((c) => c.close()));
`;
writeFileSync(join(dir, 'daemon.mjs'), daemonSource);
writeFileSync(join(dir, 'cli.mjs'), cliSource);
await build({
  entryPoints: [join(dir, 'daemon.mjs')],
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  outdir: join(dir, 'out'),
  nodePaths: [join(ROOT, 'node_modules')],
  external: [DAEMON],
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  logLevel: 'warning',
});

const config = join(dir, 'mcp.config.json');
writeFileSync(
  config,
  JSON.stringify({
    servers: Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`e${i}`, { command: process.execPath, args: [EVERYTHING, 'stdio'] }]),
    ),
  }),
);
const home = join(dir, 'home');

/** Seconds from the spawn to the first line on stdout; then waits for the process to end. */
async function untilReady(args, env = {}) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const took = await new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve((performance.now() - t0) / 1000));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before it was ready`)));
  });
  await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve()));
  return took;
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 500)); // the floor's servers go

const paths = {
  floor: async () => await untilReady([join(dir, 'cli.mjs')]).finally(settle),
  'floor, mcpd daemon code before the spawns': async () =>
    await untilReady([join(dir, 'cli.mjs')], { FLOOR_LOAD: 'before' }).finally(settle),
  'floor, mcpd daemon code after the spawns': async () => await untilReady([join(dir, 'cli.mjs')], { FLOOR_LOAD: 'after' }).finally(settle),
  'mcpd start': async () => {
    const took = await untilReady([CLI, 'start', '--config', config, '--home', home]);
    await execa(process.execPath, [CLI, 'stop', '--home', home]);
    return took;
  },
  'direct script (bench/lazy.ts)': () => untilReady(['--input-type=module', '-e', direct]),
};
const results = Object.fromEntries(Object.keys(paths).map((k) => [k, []]));
try {
  for (let i = 0; i < rounds; i += 1) {
    const order = i % 2 ? Object.keys(paths) : Object.keys(paths).reverse();
    for (const name of order) results[name].push(await paths[name]());
  }
} finally {
  await execa(process.execPath, [CLI, 'stop', '--home', home], { reject: false });
  rmSync(dir, { recursive: true, force: true });
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
console.log(`Eager start of ten server-everything, ${rounds} rounds, medians (min–max), Node ${process.version}:\n`);
console.log('| path | s |\n|---|---|');
for (const [name, v] of Object.entries(results))
  console.log(`| ${name} | **${median(v).toFixed(2)}** (${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}) |`);
