/**
 * MCP Apps for the hosts that cannot show them, as their users run them: `mcpd call`, the chat
 * (`mcpd chat -p`, the REPL's renderer) and a host on `mcpd bridge` without the UI extension (as
 * Claude Code is) get the App's dashboard link after the tool's own content; a host that shows
 * Apps gets none; `ui.appLinks: false` leaves results untouched. Real daemon, the npm Apps servers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appsServer, CLI, tempDir } from '../support/fixtures.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const api = new MessagesApiStandIn();
const dir = tempDir('mcpd-apps-term-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
const UI = { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } };
let env: Record<string, string>;

const mcpd = (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env, timeout: 30_000, stdin: 'ignore' });

function writeConfig(appLinks: boolean): void {
  writeFileSync(
    configFile,
    JSON.stringify({
      servers: {
        clock: appsServer('server-basic-vanillajs'),
        monitor: appsServer('server-system-monitor'),
      },
      ui: { appLinks },
    }),
  );
}

async function host(capabilities: Record<string, unknown>, name = 'claude-code'): Promise<Client> {
  const client = new Client({ name, version: '2.0.0' }, { capabilities });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, 'bridge', '--config', configFile], env, stderr: 'pipe' }),
  );
  return client;
}

const texts = (result: object) => ((result as { content: { text?: string }[] }).content ?? []).map((c) => c.text ?? '');

beforeAll(async () => {
  await api.start();
  env = { MCPD_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-apps', ANTHROPIC_BASE_URL: api.url, PATH: process.env['PATH'] ?? '' };
  writeConfig(true);
  const started = await mcpd(['start', '--config', configFile]);
  expect(started.exitCode, started.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await mcpd(['stop']);
  await api.stop();
  dir.cleanup();
});

describe('Apps for terminal hosts', () => {
  it('mcpd tools says which tools have an App, and which are for their App only', async () => {
    const listed = await mcpd(['tools', 'monitor']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/monitor__get-system-info\s+monitor\s+\[has an App\] /);
    expect(listed.stdout).toMatch(/monitor__poll-system-stats\s+monitor\s+\[for its App only\] /);
    const one = await mcpd(['tools', 'monitor__poll-system-stats']);
    expect(one.stdout).toContain("for its server's MCP App only");
  });

  it('mcpd call prints the link after the content, and the link answers', async () => {
    const call = await mcpd(['call', 'clock__get-time']);
    expect(call.exitCode, call.stderr).toBe(0);
    const lines = call.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT/);
    const link = /^Open its app: (http:\/\/127\.0\.0\.1:\d+\/ui\/app\/[A-Za-z0-9_-]+)$/.exec(lines.at(-1)!)?.[1];
    expect(link, call.stdout).toBeDefined();
    const page = await fetch(link!);
    expect(page.status).toBe(200);
  });

  it('the chat prints the link on the tool line; Claude gets the result without it', async () => {
    api.script(
      { content: [{ type: 'tool_use', name: 'clock__get-time', input: {} }], stopReason: 'tool_use' },
      { content: [{ type: 'text', text: 'That is the time.' }] },
    );
    const result = await mcpd(['chat', '-p', 'what time is it?']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/✓ clock__get-time \d+ ms · \d{4}-\S+ · app: http:\/\/127\.0\.0\.1:\d+\/ui\/app\/\S+/);
    expect(JSON.stringify(api.requests.at(-1)!.body.messages.at(-1))).not.toContain('Open its app');
    // No app-only tool went to Claude.
    expect(api.requests.at(-1)!.body.tools!.map((t) => (t as { name: string }).name)).not.toContain('monitor__poll-system-stats');
  });

  it('a bridge host without the UI extension gets the link and never the app-only tool; one with it, neither', async () => {
    const plain = await host({});
    try {
      const { tools } = await plain.listTools();
      expect(tools.map((t) => t.name)).not.toContain('monitor__poll-system-stats');
      const lines = texts(await plain.callTool({ name: 'clock__get-time', arguments: {} }));
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^Open its app: http:\/\/127\.0\.0\.1:\d+\/ui\/app\//);
    } finally {
      await plain.close();
    }
    const showing = await host({ extensions: UI });
    try {
      const { tools } = await showing.listTools();
      expect(tools.map((t) => t.name)).toContain('monitor__poll-system-stats');
      expect(texts(await showing.callTool({ name: 'clock__get-time', arguments: {} }))).toHaveLength(1);
    } finally {
      await showing.close();
    }
  });

  it('Claude Desktop (claude-ai) declares the extension but shows no App of a local server: it gets the link (ui.linkClients)', async () => {
    const desktop = await host({ extensions: UI }, 'claude-ai');
    try {
      const { tools } = await desktop.listTools();
      expect(tools.map((t) => t.name)).not.toContain('monitor__poll-system-stats');
      const lines = texts(await desktop.callTool({ name: 'clock__get-time', arguments: {} }));
      expect(lines[1]).toMatch(/^Open its app: http:\/\/127\.0\.0\.1:\d+\/ui\/app\//);
    } finally {
      await desktop.close();
    }
  });

  it('ui.appLinks: false leaves results as the server gave them', async () => {
    writeConfig(false);
    const reload = await mcpd(['reload']);
    expect(reload.exitCode, reload.stderr).toBe(0);
    const call = await mcpd(['call', 'clock__get-time']);
    expect(call.exitCode, call.stderr).toBe(0);
    expect(call.stdout).not.toContain('Open its app');
    expect(call.stdout.trim().split('\n')).toHaveLength(1);
  });
});
