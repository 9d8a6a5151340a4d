/**
 * A profile of `exposure: "search"` over the real npm servers: a host sees the pinned tools and
 * two meta-tools, finds any tool with `mcpd_search_tools` and calls it with `mcpd_call_tool`
 * (progress included), bad input gets a tool error that says what is wrong, and the list is a
 * small fraction of the full one. Both eras of the HTTP gateway.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { rawPost } from '../support/http.js';

const bin = (pkg: string) => join(ROOT, 'node_modules/@modelcontextprotocol', pkg, 'dist/index.js');
let sandbox: string;
let t: TestDaemon;
let base: string;
const clients: Client[] = [];

beforeAll(async () => {
  sandbox = mkdtempSync(join(tmpdir(), 'mcpd-search-'));
  t = await startDaemon({
    servers: {
      everything: { command: process.execPath, args: [bin('server-everything'), 'stdio'] },
      memory: { command: process.execPath, args: [bin('server-memory')], env: { MEMORY_FILE_PATH: join(sandbox, 'memory.jsonl') } },
    },
    gateway: {
      http: { port: 0 },
      profiles: {
        find: { exposure: 'search', pinned: ['memory__read_graph'], tools: { deny: ['everything__get-env'] } },
      },
    },
  });
  base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await t?.stop();
  rmSync(sandbox, { recursive: true, force: true });
});

async function connect(path: string): Promise<Client> {
  const client = new Client({ name: 'search-host', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`)));
  clients.push(client);
  return client;
}

type Result = { content: { type: string; text: string }[]; isError?: boolean; structuredContent?: Record<string, unknown> };
const text = (result: unknown) => (result as Result).content.map((c) => c.text).join('\n');

describe('a search profile', () => {
  it('lists the pinned tools and the two meta-tools, which say what is behind them', async () => {
    const host = await connect('/profiles/find/mcp');
    const { tools } = await host.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['memory__read_graph', 'mcpd_search_tools', 'mcpd_call_tool']);
    const search = tools.find((tool) => tool.name === 'mcpd_search_tools')!;
    // Every tool of the profile but the denied one: server-everything's and server-memory's.
    const all = (await (await connect('/mcp')).listTools()).tools;
    const behind = all.filter((tool) => tool.name !== 'everything__get-env');
    const count = (server: string) => behind.filter((tool) => tool.name.startsWith(`${server}__`)).length;
    expect(search.description).toContain(`among ${behind.length} tools`);
    expect(search.description).toContain(`everything (${count('everything')}), memory (${count('memory')})`);
    // The whole point: a fraction of the bytes of the full list.
    expect(JSON.stringify(tools).length).toBeLessThan(JSON.stringify(all).length * 0.25);
  });

  it('finds a tool by what it does, with its input schema, and calls it as a direct call would', async () => {
    const host = await connect('/profiles/find/mcp');
    const found = (await host.callTool({ name: 'mcpd_search_tools', arguments: { query: 'echo a message back', limit: 3 } })) as Result;
    const matches = found.structuredContent!['tools'] as { name: string; inputSchema: { properties: Record<string, unknown> } }[];
    expect(matches[0]!.name).toBe('everything__echo');
    expect(Object.keys(matches[0]!.inputSchema.properties)).toContain('message');
    expect(matches.length).toBeLessThanOrEqual(3);
    expect(text(found)).toContain('everything__echo');
    // Knowledge-graph words find server-memory's tools.
    const graph = (await host.callTool({
      name: 'mcpd_search_tools',
      arguments: { query: 'create entities in the knowledge graph' },
    })) as Result;
    expect((graph.structuredContent!['tools'] as { name: string }[])[0]!.name).toBe('memory__create_entities');

    const through = await host.callTool({ name: 'mcpd_call_tool', arguments: { name: 'everything__echo', arguments: { message: 'hi' } } });
    const direct = await (await connect('/mcp')).callTool({ name: 'everything__echo', arguments: { message: 'hi' } });
    expect(through).toEqual(direct);
  });

  it('passes progress on through mcpd_call_tool', async () => {
    const host = await connect('/profiles/find/mcp');
    const progress: number[] = [];
    const result = await host.callTool(
      { name: 'mcpd_call_tool', arguments: { name: 'everything__trigger-long-running-operation', arguments: { duration: 0.3, steps: 3 } } },
      undefined,
      { onprogress: (p) => void progress.push(p.progress) },
    );
    expect(text(result)).toContain('Long running operation completed');
    expect(progress).toEqual([1, 2, 3]);
  });

  it('gives bad input a tool error that names what is wrong', async () => {
    const host = await connect('/profiles/find/mcp');
    const call = async (name: string, args: Record<string, unknown>) => (await host.callTool({ name, arguments: args })) as Result;
    const cases: [string, Record<string, unknown>, string][] = [
      ['mcpd_search_tools', { query: '' }, 'needs "query"'],
      ['mcpd_search_tools', { query: 'x'.repeat(10_000) }, 'is 10000 characters'],
      ['mcpd_search_tools', { query: 'echo', limit: 0 }, '"limit" must be a whole number from 1 to 50 (got 0)'],
      ['mcpd_search_tools', { query: 'echo', limit: 1_000_000 }, '(got 1000000)'],
      ['mcpd_call_tool', { name: 'everything__ecoh', arguments: {} }, 'Did you mean "everything__echo"?'],
      ['mcpd_call_tool', { name: 'everything__get-env' }, "this profile's allow/deny or servers leave it out"],
      ['mcpd_call_tool', { name: 'mcpd_call_tool' }, 'Call mcpd_call_tool directly'],
      ['mcpd_call_tool', { name: 'everything__echo', arguments: [1] }, '"arguments" must be an object'],
    ];
    for (const [name, args, message] of cases) {
      const result = await call(name, args);
      expect(result.isError, message).toBe(true);
      expect(text(result)).toContain(message);
    }
    const none = await call('mcpd_search_tools', { query: 'zzqx' });
    expect(none.isError).toBeUndefined();
    expect(text(none)).toContain('No tool matches "zzqx"');
  });

  it('serves the same to a 2026-07-28 client, session-less', async () => {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'a-2026-host', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const post = async (id: number, method: string, params: Record<string, unknown>) => {
      const headers: Record<string, string> = { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method };
      if (typeof params['name'] === 'string') headers['Mcp-Name'] = params['name'];
      const answer = await rawPost(
        `${base}/profiles/find/mcp`,
        { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } },
        headers,
      );
      const json = answer.body.startsWith('{') ? answer.body : /^data: (.*)$/m.exec(answer.body)![1]!;
      return (JSON.parse(json) as { result: Record<string, unknown> }).result;
    };
    const listed = await post(1, 'tools/list', {});
    expect((listed['tools'] as { name: string }[]).map((tool) => tool.name)).toEqual([
      'memory__read_graph',
      'mcpd_search_tools',
      'mcpd_call_tool',
    ]);
    const called = await post(2, 'tools/call', {
      name: 'mcpd_call_tool',
      arguments: { name: 'everything__echo', arguments: { message: '2026' } },
    });
    expect(called).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'Echo: 2026' }] });
  });
});

describe('what hosts are told', () => {
  const everythingSays = readFileSync(
    join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/docs/instructions.md'),
    'utf8',
  ).trim();

  it("passes each server's instructions on, labelled by server on the merged endpoint", async () => {
    const merged = (await connect('/mcp')).getInstructions()!;
    expect(merged).toMatch(/^mcpd: tools of the servers mcpd runs, named SERVER__TOOL\./);
    expect(merged).toContain(`<server name="everything">\n${everythingSays}\n</server>`);
    // A server's own endpoint: its instructions as they are, after one line saying who answers.
    const own = (await connect('/servers/everything/mcp')).getInstructions()!;
    expect(own).toContain(everythingSays);
    expect(own).not.toContain('<server');
  });

  it('lists tools in the same order after a restart and after a reload', async () => {
    const names = async () => (await (await connect('/mcp')).listTools()).tools.map((tool) => tool.name);
    const before = await names();
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
    await t.restart();
    base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
    expect(await names()).toEqual(before);
    // A reload that adds a server puts its tools in their place; the others keep their order.
    const config = JSON.parse(readFileSync(t.configFile, 'utf8')) as { servers: Record<string, unknown> };
    config.servers['alpha'] = config.servers['memory'];
    t.writeConfig(config);
    await t.daemon.reload();
    const after = await names();
    expect(after.filter((name) => !name.startsWith('alpha__'))).toEqual(before);
    expect(after.findIndex((name) => name.startsWith('alpha__'))).toBe(0);
  }, 60_000);
});
