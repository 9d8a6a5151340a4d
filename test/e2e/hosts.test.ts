/**
 * The README's host snippets, run as each host runs them: the entry is read from the README,
 * its command spawned (stdio) or its URL reached (HTTP) with the SDK client as the host, and the
 * merged catalogue must come back. A snippet edited into something that does not work fails here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, ROOT, tempDir } from '../support/fixtures.js';

interface HostEntry {
  type?: string;
  command?: string;
  args?: string[];
  url?: string;
}

/** The `mcpd` entry of the JSON block under `<!-- host:NAME -->` in the README. */
function snippet(host: string): HostEntry {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- host:${host} -->\\s*\`\`\`json\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`no snippet for ${host} in the README`);
  const config = JSON.parse(match[1]!) as { mcpServers?: Record<string, HostEntry>; servers?: Record<string, HostEntry> };
  const entry = (config.mcpServers ?? config.servers)?.['mcpd'];
  if (!entry) throw new Error(`the ${host} snippet has no "mcpd" entry`);
  return entry;
}

const dir = tempDir('mcpd-hosts-');
const home = join(dir.path, 'home');
let port: number;

beforeAll(async () => {
  writeFileSync(join(dir.path, 'mcp.config.json'), JSON.stringify({ servers: { fx: fixtureEntry() }, gateway: { http: { port: 0 } } }));
  // The daemon the hosts will find (the bridge would start one too; that is tested elsewhere).
  const started = await execa(process.execPath, [CLI, 'start', '--json'], { cwd: dir.path, env: { MCPD_HOME: home }, reject: false });
  expect(started.exitCode, started.stderr).toBe(0);
  const status = JSON.parse(started.stdout) as { fronts: { name: string; address: string }[] };
  port = Number(new URL(status.fronts.find((f) => f.name === 'mcp-http')!.address).port);
});

afterAll(async () => {
  await execa(process.execPath, [CLI, 'stop'], { env: { MCPD_HOME: home }, reject: false });
  dir.cleanup();
});

async function expectCatalogue(client: Client): Promise<void> {
  const names = (await client.listTools()).tools.map((t) => t.name);
  expect(names).toContain('fx__echo');
  expect((await client.callTool({ name: 'fx__echo', arguments: { message: 'host' } })).content).toEqual([{ type: 'text', text: 'host' }]);
  await client.close();
}

describe('the README host snippets', () => {
  for (const host of ['claude-desktop', 'claude-code', 'cursor', 'vscode']) {
    it(`${host}: spawned as the host spawns it`, async () => {
      const entry = snippet(host);
      expect(entry.command).toBe('mcpd');
      // `mcpd` on PATH is this checkout's dist/bundle/mcpd.js.
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [CLI, ...(entry.args ?? [])],
        env: { ...process.env, MCPD_HOME: home },
        cwd: dir.path,
      });
      const client = new Client({ name: host, version: '1.0.0' });
      await client.connect(transport);
      await expectCatalogue(client);
    });
  }

  it('vscode-http: reached at its URL', async () => {
    const entry = snippet('vscode-http');
    expect(entry.type).toBe('http');
    const url = new URL(entry.url!);
    url.port = String(port); // the test gateway listens on a free port instead of 7331
    const client = new Client({ name: 'vscode', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    await expectCatalogue(client);
  });
});
