/**
 * The daemon with the real servers people run, from npm: everything, memory, filesystem.
 * Driven through the control socket, as the CLI does.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isValidName } from '../../src/catalogue/naming.js';
import type { ControlClient } from '../../src/client/control-client.js';
import { ROOT } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const bin = (pkg: string) => join(ROOT, 'node_modules/@modelcontextprotocol', pkg, 'dist/index.js');
let sandbox: string;
let t: TestDaemon;
let client: ControlClient;

beforeAll(async () => {
  sandbox = mkdtempSync(join(tmpdir(), 'mcpd-sandbox-'));
  writeFileSync(join(sandbox, 'hello.txt'), 'hello from the sandbox\n');
  t = await startDaemon({
    mcpServers: {
      everything: { command: process.execPath, args: [bin('server-everything'), 'stdio'] },
      memory: { command: process.execPath, args: [bin('server-memory')], env: { MEMORY_FILE_PATH: join(sandbox, 'memory.jsonl') } },
      filesystem: { command: process.execPath, args: [bin('server-filesystem'), sandbox] },
    },
  });
  client = await t.connect();
}, 60_000);

afterAll(async () => {
  await t?.stop();
  rmSync(sandbox, { recursive: true, force: true });
});

describe('the npm servers through mcpd', () => {
  it('runs all three and merges their tools under valid namespaced names', async () => {
    const status = await client.request('status', {});
    expect(status.ready).toBe(true);
    expect(status.servers.map((s) => [s.name, s.state])).toEqual([
      ['everything', 'running'],
      ['memory', 'running'],
      ['filesystem', 'running'],
    ]);
    const { tools } = await client.request('tools.list', {});
    expect(tools.length).toBe(status.toolCount);
    for (const tool of tools) expect(isValidName(tool.name), tool.name).toBe(true);
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'memory__create_entities', 'filesystem__read_text_file']));
    const { tools: fsOnly } = await client.request('tools.list', { server: 'filesystem' });
    expect(fsOnly.every((t) => t.server === 'filesystem')).toBe(true);
  });

  it('calls a tool on each server', async () => {
    const echo = await client.request('tools.call', { name: 'everything__echo', arguments: { message: 'hi' } });
    expect(echo.content[0]).toMatchObject({ type: 'text', text: 'Echo: hi' });

    const file = await client.request('tools.call', {
      name: 'filesystem__read_text_file',
      arguments: { path: join(sandbox, 'hello.txt') },
    });
    expect(JSON.stringify(file.content)).toContain('hello from the sandbox');

    await client.request('tools.call', {
      name: 'memory__create_entities',
      arguments: { entities: [{ name: 'mcpd', entityType: 'project', observations: ['supervises MCP servers'] }] },
    });
    const graph = await client.request('tools.call', { name: 'memory__read_graph', arguments: {} });
    expect(JSON.stringify(graph)).toContain('supervises MCP servers');
  });

  it('calls a tool its server runs only as a task (2025-11-25 tasks) like any other', async () => {
    // server-everything's simulate-research-query refuses a plain call ("requires task
    // augmentation"): mcpd starts it as a task and waits for the task's result.
    const result = await client.request('tools.call', { name: 'everything__simulate-research-query', arguments: { topic: 'otters' } });
    expect(result.isError ?? false).toBe(false);
    const text = result.content.map((c) => (c.type === 'text' ? String(c.text) : '')).join('');
    expect(text).toContain('# Research Report: otters');
    expect(text).toContain('Stage 4: Generating report');
  });

  it('returns a tool error as a result with isError, not as a failure', async () => {
    const denied = await client.request('tools.call', { name: 'filesystem__read_text_file', arguments: { path: '/etc/passwd' } });
    expect(denied.isError).toBe(true);
  });

  it('aggregates resources and prompts, each keeping its server', async () => {
    const { resources } = await client.request('resources.list', {});
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.every((r) => ['everything', 'memory', 'filesystem'].includes(r.server))).toBe(true);
    const first = resources.find((r) => r.server === 'everything')!;
    const read = await client.request('resources.read', { uri: first.uri });
    expect(read.contents.length).toBeGreaterThan(0);
    const { prompts } = await client.request('prompts.list', {});
    const simple = prompts.find((p) => p.server === 'everything' && p.originalName.includes('simple'));
    expect(simple?.name).toMatch(/^everything__/);
    const got = await client.request('prompts.get', { name: simple!.name });
    expect(got.messages.length).toBeGreaterThan(0);
  });

  it('restarts one server without touching the others', async () => {
    const before = await client.request('status', {});
    const pid = (name: string, s: typeof before) => s.servers.find((x) => x.name === name)!.pid;
    const { server } = await client.request('servers.restart', { name: 'memory' });
    expect(server.state).toBe('running');
    const after = await client.request('status', {});
    expect(pid('memory', after)).not.toBe(pid('memory', before));
    expect(pid('everything', after)).toBe(pid('everything', before));
    expect(pid('filesystem', after)).toBe(pid('filesystem', before));
  });

  it('never hands the Anthropic key or the control token to a server process', async () => {
    const saved = { key: process.env['ANTHROPIC_API_KEY'], token: process.env['MCPD_TOKEN'] };
    process.env['ANTHROPIC_API_KEY'] = 'sk-ant-must-not-leak';
    process.env['MCPD_TOKEN'] = 'token-must-not-leak';
    process.env['MCPD_TEST_VISIBLE'] = 'inherited';
    try {
      await client.request('servers.restart', { name: 'everything' }); // spawned with the environment above
      const env = JSON.stringify(await client.request('tools.call', { name: 'everything__get-env', arguments: {} }));
      expect(env).toContain('MCPD_TEST_VISIBLE'); // the rest is inherited
      expect(env).not.toContain('must-not-leak');
      expect(env).not.toContain('ANTHROPIC_API_KEY');
    } finally {
      for (const [name, value] of [
        ['ANTHROPIC_API_KEY', saved.key],
        ['MCPD_TOKEN', saved.token],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      delete process.env['MCPD_TEST_VISIBLE'];
    }
  });

  it("keeps each server's stderr for logs.read", async () => {
    const { entries } = await client.request('logs.read', { server: 'everything', lines: 50 });
    expect(entries.some((e) => e.stream === 'stderr')).toBe(true);
  });
});
