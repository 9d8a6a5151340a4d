/**
 * `mcpd bridge` as a host runs it: the SDK's stdio client spawns the command, as Claude Desktop
 * and Claude Code do, and speaks MCP to it. Real daemon, real fixture servers.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, ROOT, tempDir, waitFor } from '../support/fixtures.js';

const dir = tempDir('mcpd-br-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
const events = join(dir.path, 'events.log');
const clients: Client[] = [];

const mcpd = (args: string[]) => execa(process.execPath, [CLI, ...args, '--home', home], { reject: false, cwd: dir.path, timeout: 60_000 });

async function host(args: string[] = []): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'bridge', '--home', home, '--config', configFile, ...args],
    cwd: dir.path,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'test-host', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}

beforeAll(() => {
  writeFileSync(
    configFile,
    JSON.stringify({
      servers: { fx: fixtureEntry({ FIXTURE_EVENTS: events }), other: fixtureEntry() },
      plugins: [join(ROOT, 'plugins/redact-secrets.ts'), join(ROOT, 'plugins/audit-log.ts')],
      gateway: { profiles: { echoes: { tools: { allow: ['*__echo'] } }, find: { exposure: 'search', pinned: ['fx__echo'] } } },
    }),
  );
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await mcpd(['stop']);
  dir.cleanup();
});

describe('mcpd bridge', () => {
  it('starts the daemon when none runs, then serves the merged catalogue', async () => {
    expect(existsSync(join(home, 'mcpd.sock'))).toBe(false);
    const { client, stderr } = await host();
    expect(stderr()).toContain('starting one');
    expect(client.getServerVersion()?.name).toBe('mcpd');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['fx__echo', 'other__echo']));
    const result = await client.callTool({ name: 'fx__echo', arguments: { message: 'via the bridge' } });
    expect(result.content).toEqual([{ type: 'text', text: 'via the bridge' }]);
    const failed = await client.callTool({ name: 'fx__fail', arguments: {} });
    expect(failed.isError).toBe(true);
    await expect(client.callTool({ name: 'fx__nope', arguments: {} })).rejects.toThrow('No tool named "fx__nope"');
    // Plugins see the call as the MCP client's, by the name it gave in initialize.
    const audit = join(home, 'plugins', 'audit-log', 'audit.jsonl');
    await waitFor(() => existsSync(audit) && readFileSync(audit, 'utf8').includes('fx__echo'), 5_000, 'the audit line');
    expect(readFileSync(audit, 'utf8')).toContain('"caller":"mcp-client","client":"test-host"');
    const prompt = await client.getPrompt({ name: 'fx__secret_prompt' });
    // Plugins apply on this path too: the fake key is redacted.
    expect(JSON.stringify(prompt)).toContain('[REDACTED Anthropic key]');
  }, 60_000);

  it('answers what a host asked before it closed stdin (a request piped in)', async () => {
    const request = (id: number, method: string, params: unknown) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
    const input = [
      request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'pipe', version: '0' } }),
      JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      request(2, 'tools/call', { name: 'fx__slow', arguments: { ms: 300 } }),
    ].join('\n');
    const piped = await execa(process.execPath, [CLI, 'bridge', '--home', home, '--config', configFile], {
      input: `${input}\n`,
      reject: false,
      timeout: 30_000,
    });
    expect(piped.exitCode).toBe(0);
    const answers = String(piped.stdout)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { id?: number; result?: { content?: unknown }; error?: unknown });
    expect(answers.map((a) => [a.id, a.error === undefined])).toEqual([
      [1, true],
      [2, true],
    ]);
    expect(answers[1]!.result!.content).toEqual([{ type: 'text', text: 'waited 300 ms' }]);
  });

  it('answers initialize when the daemon runs, and --server shows one server under its own names', async () => {
    const { client } = await host(['--server', 'fx']);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['echo', 'slow', 'progress']));
    expect(names.some((n) => n.includes('__'))).toBe(false);
    const read = await client.readResource({ uri: 'fixture://secret' });
    expect(JSON.stringify(read)).toContain('[REDACTED Anthropic key]');
    expect((await client.getPrompt({ name: 'secret_prompt' })).messages).toHaveLength(1);
  });

  it('--profile shows the profile', async () => {
    const { client } = await host(['--profile', 'echoes']);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['fx__echo', 'other__echo']);
  });

  it('--profile of a search profile: the pinned tool and the meta-tools, which find and call the rest', async () => {
    const { client } = await host(['--profile', 'find']);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['fx__echo', 'mcpd_search_tools', 'mcpd_call_tool']);
    const found = (await client.callTool({ name: 'mcpd_search_tools', arguments: { query: 'progress' } })) as unknown as {
      structuredContent: { tools: { name: string }[] };
    };
    expect(found.structuredContent.tools.map((t) => t.name)).toContain('fx__progress');
    const called = await client.callTool({ name: 'mcpd_call_tool', arguments: { name: 'other__echo', arguments: { message: 'found' } } });
    expect(called.content).toEqual([{ type: 'text', text: 'found' }]);
  });

  it('an unknown --server is refused with a clear message', async () => {
    const result = await execa(process.execPath, [CLI, 'bridge', '--home', home, '--server', 'nope'], {
      reject: false,
      input: '',
      timeout: 20_000,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No server named "nope"');
  });

  it('relays progress, and the host’s cancel reaches the server', async () => {
    const { client } = await host();
    const progress: number[] = [];
    await client.callTool({ name: 'fx__progress', arguments: { ms: 300, every: 60 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const abort = new AbortController();
    const call = client.callTool({ name: 'fx__slow', arguments: { ms: 30_000 } }, undefined, { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await expect(call).rejects.toThrow();
    await waitFor(
      () => existsSync(events) && readFileSync(events, 'utf8').includes('cancelled slow'),
      5_000,
      'the cancel to reach the server',
    );
  });

  it('passes an elicitation from the server to the host that made the call, and its answer back', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'bridge', '--home', home],
      cwd: dir.path,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'asking-host', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      expect(request.params.message).toBe('What is your name?');
      return { action: 'accept', content: { name: 'Grace' } };
    });
    await client.connect(transport);
    clients.push(client);
    const result = await client.callTool({ name: 'fx__ask', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'hello Grace' }]);
  });

  it('tells the host when a server’s tools change', async () => {
    const { client } = await host();
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    await client.callTool({ name: 'other__add_tool', arguments: { name: 'late_tool' } });
    await waitFor(() => changed > 0, 5_000, 'list_changed');
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('other__late_tool');
  });

  it('survives a daemon restart: in-flight requests fail, the next one works, the host hears list_changed', async () => {
    const { client, stderr } = await host();
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    const inFlight = client.callTool({ name: 'fx__slow', arguments: { ms: 30_000 } });
    await new Promise((r) => setTimeout(r, 200));
    expect((await mcpd(['stop'])).exitCode).toBe(0);
    // Cut short: told as a tool error (the server was stopped under it) or a JSON-RPC error (the
    // daemon went away first); never left hanging, never replayed.
    const outcome = await inFlight.then(
      (result) => JSON.stringify(result),
      (error: unknown) => String(error),
    );
    expect(outcome).toMatch(/went away|stopping|not running/);
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const result = await client.callTool({ name: 'fx__echo', arguments: { message: 'after the restart' } });
    expect(result.content).toEqual([{ type: 'text', text: 'after the restart' }]);
    await waitFor(() => changed > 0, 5_000, 'list_changed after the reconnect');
    expect(stderr()).toContain('reconnected');
  }, 60_000);
});
