/**
 * What a big catalogue costs the model's context, and what tool search saves (issue 22): for the
 * bundled config and a big one (five server-everything instances, server-memory and
 * server-filesystem), the bytes of tool definitions the first chat request loads into Claude's
 * context with and without tool search (deferred definitions travel in the request but are not
 * loaded until a search finds them), and the bytes of `tools/list` for a profile of
 * `exposure: "all"` and of `"search"`. Then `mcpd_search_tools` over 1 000 tools: its answer time
 * in the daemon's code, and through the HTTP gateway for the big config.
 *
 * `npx tsx bench/catalogue.ts` runs it alone; `npm run bench` runs it with the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { toClaudeTools } from '../src/chat/tools.js';
import { searchTools } from '../src/fronts/mcp/search-tools.js';
import type { ToolEntry } from '../src/protocol/types.js';
import { startBenchDaemon } from './daemon.js';

const ROOT = resolve(import.meta.dirname, '..');
const pkg = (name: string) => join(ROOT, 'node_modules/@modelcontextprotocol', name, 'dist/index.js');
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The bundled mcp.config.json, with its paths made absolute (the bench daemon runs elsewhere). */
function bundled(sandbox: string) {
  return {
    everything: { command: process.execPath, args: [pkg('server-everything'), 'stdio'] },
    memory: { command: process.execPath, args: [pkg('server-memory')], env: { MEMORY_FILE_PATH: join(sandbox, 'memory.jsonl') } },
    fs: { command: process.execPath, args: [pkg('server-filesystem'), sandbox] },
  };
}

function big(sandbox: string) {
  const everything = { command: process.execPath, args: [pkg('server-everything'), 'stdio'] };
  return {
    ...Object.fromEntries(['everything', 'everything2', 'everything3', 'everything4', 'everything5'].map((n) => [n, everything])),
    memory: bundled(sandbox).memory,
    fs: bundled(sandbox).fs,
  };
}

interface Measured {
  label: string;
  tools: number;
  chatAll: number;
  chatLoaded: number;
  chatRequest: number;
  listAll: number;
  listSearch: number;
  searchHttpMs: number;
  entries: ToolEntry[];
}

async function measure(label: string, servers: Record<string, unknown>, plugins: unknown[]): Promise<Measured> {
  const bench = await startBenchDaemon({
    servers,
    plugins,
    gateway: { http: { port: 0 }, profiles: { all: {}, search: { exposure: 'search' } } },
  });
  const clients: Client[] = [];
  try {
    const entries = (await bench.control.request('tools.list', {})).tools;
    const plain = toClaudeTools(entries, { toolSearch: false });
    const searched = toClaudeTools(entries, { toolSearch: true });
    const loaded = searched.filter((t) => !('defer_loading' in t && t.defer_loading));
    const address = (await bench.control.request('status', {})).fronts.find((f) => f.name === 'mcp-http')!.address;
    const connect = async (path: string) => {
      const client = new Client({ name: 'bench-catalogue', version: '0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${address}${path}`)));
      clients.push(client);
      return client;
    };
    const all = await connect('/profiles/all/mcp');
    const search = await connect('/profiles/search/mcp');
    const listAll = bytes((await all.listTools()).tools);
    const listSearch = bytes((await search.listTools()).tools);
    const times: number[] = [];
    for (const query of QUERIES) {
      const t0 = performance.now();
      await search.callTool({ name: 'mcpd_search_tools', arguments: { query } });
      times.push(performance.now() - t0);
    }
    return {
      label,
      tools: entries.length,
      chatAll: bytes(plain),
      chatLoaded: bytes(loaded),
      chatRequest: bytes(searched),
      listAll,
      listSearch,
      searchHttpMs: median(times),
      entries,
    };
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    await bench.stop();
  }
}

const QUERIES = [
  'echo a message',
  'read a text file',
  'create entities in the knowledge graph',
  'add two numbers',
  'long running operation with progress',
  'list allowed directories',
  'search nodes',
  'write file',
  'tiny image',
  'annotated message',
];

/** 1 000 tools from the big config's, each server's part repeated under new server names. */
function thousand(entries: readonly ToolEntry[]): ToolEntry[] {
  const out: ToolEntry[] = [];
  for (let copy = 0; out.length < 1000; copy += 1)
    for (const entry of entries) if (out.length < 1000) out.push({ ...entry, server: `s${copy}`, name: `s${copy}__${entry.originalName}` });
  return out;
}

export async function catalogueBench(): Promise<string[]> {
  const sandbox = mkdtempSync(join(tmpdir(), 'mcpd-bench-catalogue-'));
  try {
    const plugins = [join(ROOT, 'plugins/audit-log.ts'), join(ROOT, 'plugins/redact-secrets.ts')];
    const rows = [
      await measure('bundled `mcp.config.json` (3 servers)', bundled(sandbox), [
        ...plugins,
        [join(ROOT, 'plugins/tool-filter.ts'), { deny: ['everything__get-env'] }],
      ]),
      await measure('big: 5× server-everything, memory, filesystem', big(sandbox), plugins),
    ];
    const many = thousand(rows[1]!.entries);
    const cold = performance.now();
    searchTools(many, { query: 'warm up' });
    const firstMs = performance.now() - cold;
    // A changed catalogue (new entries) is indexed again at its first search: that query's time.
    const rebuilt: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const changed = many.map((t) => ({ ...t }));
      const t0 = performance.now();
      searchTools(changed, { query: 'read a text file' });
      rebuilt.push(performance.now() - t0);
    }
    const times: number[] = [];
    for (let round = 0; round < 20; round += 1)
      for (const query of QUERIES) {
        const t0 = performance.now();
        searchTools(many, { query, limit: 5 });
        times.push(performance.now() - t0);
      }
    return [
      "### A big catalogue in the model's context",
      '',
      'Bytes of tool definitions (JSON). "Loaded" is what enters Claude\'s context in the first chat request: with tool search, the search tool and the pinned tools (none here); the deferred definitions still travel in the request (shown) but load only when a search finds them. `tools/list` is what a host\'s model gets from a profile of `exposure: "all"` and of `"search"`.',
      '',
      '| catalogue | tools | chat, no search: loaded | chat, tool search: loaded | (request, deferred included) | `tools/list`, all | `tools/list`, search | `mcpd_search_tools` via HTTP, p50 |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.label} | ${r.tools} | ${kb(r.chatAll)} | **${kb(r.chatLoaded)} (${pct(r.chatLoaded, r.chatAll)})** | ${kb(r.chatRequest)} | ${kb(r.listAll)} | **${kb(r.listSearch)} (${pct(r.listSearch, r.listAll)})** | ${r.searchHttpMs.toFixed(2)} ms |`,
      ),
      '',
      `\`mcpd_search_tools\` over 1 000 tools, in the daemon's code (BM25, \`src/util/bm25.ts\`): a query answered in **${median(times).toFixed(2)} ms** (p50 of ${times.length}; max ${Math.max(...times).toFixed(2)} ms); the first query after the catalogue changed, which indexes it again, **${median(rebuilt).toFixed(1)} ms** (p50 of ${rebuilt.length}; the very first of the process, with its code not yet compiled, ${firstMs.toFixed(1)} ms). Targets: loaded with search ≤ 15% of without; the search profile's list ≤ 10% of the full one; a search under 20 ms for 1 000 tools.`,
    ];
  } finally {
    rmSync(sandbox, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await catalogueBench()).join('\n'));
