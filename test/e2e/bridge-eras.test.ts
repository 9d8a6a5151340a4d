/**
 * `mcpd bridge` serving two hosts of two eras at once: a v1 SDK host (2025-11-25: initialize, the
 * server asks mid-call) and a v2 SDK host pinned to 2026-07-28 (server/discover, no session, the
 * server's questions as input-required results the host answers and retries). Each gets its
 * elicitation and sampling round trip, from the same 2025-era fixture server through the daemon.
 */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-eras-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
const bridge = {
  command: process.execPath,
  args: [CLI, 'bridge', '--home', home, '--config', configFile, '--server', 'fx'],
  cwd: dir.path,
};
let old: ClientV1;
let now: ClientV2;

const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;

beforeAll(async () => {
  writeFileSync(configFile, JSON.stringify({ servers: { fx: fixtureEntry() } }));
  old = new ClientV1({ name: 'host-2025', version: '1.0.0' }, { capabilities: { elicitation: {}, sampling: {} } });
  old.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada (2025)' } }));
  old.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant',
    model: 'host-model',
    content: { type: 'text', text: 'hi from 2025' },
  }));
  await old.connect(new StdioV1({ ...bridge, stderr: 'pipe' }));
  now = new ClientV2(
    { name: 'host-2026', version: '1.0.0' },
    { capabilities: { elicitation: {}, sampling: {} }, versionNegotiation: { mode: { pin: '2026-07-28' } } },
  );
  now.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Grace (2026)' } }));
  now.setRequestHandler('sampling/createMessage', async () => ({
    role: 'assistant',
    model: 'host-model',
    content: { type: 'text', text: 'hi from 2026' },
  }));
  await now.connect(new StdioV2({ ...bridge, stderr: 'pipe' }));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([old?.close(), now?.close()]);
  await execa(process.execPath, [CLI, 'stop', '--home', home], { reject: false });
  dir.cleanup();
});

describe('mcpd bridge, a 2025 host and a 2026 host at once', () => {
  it('speaks each one its own era', () => {
    expect(old.getServerVersion()?.name).toBe('mcpd');
    expect(now.getServerVersion()?.name).toBe('mcpd');
    expect(now.getNegotiatedProtocolVersion?.()).toBe('2026-07-28');
  });

  it('lists and calls for both, at the same time', async () => {
    const [a, b] = await Promise.all([
      old.callTool({ name: 'echo', arguments: { message: 'from 2025' } }),
      now.callTool({ name: 'echo', arguments: { message: 'from 2026' } }),
    ]);
    expect([text(a), text(b)]).toEqual(['from 2025', 'from 2026']);
    expect((await now.listTools()).tools.map((t) => t.name)).toContain('ask');
  });

  it("puts the server's questions to each host in its era: elicitation and sampling", async () => {
    // One after the other: a stdio server does not say which call asked, so two asking calls in
    // flight to it at once are declined rather than risk the wrong host (see the README).
    expect(text(await old.callTool({ name: 'ask', arguments: {} }))).toBe('hello Ada (2025)');
    expect(text(await now.callTool({ name: 'ask', arguments: {} }))).toBe('hello Grace (2026)');
    expect(text(await old.callTool({ name: 'sample', arguments: {} }))).toBe('model said: hi from 2025');
    expect(text(await now.callTool({ name: 'sample', arguments: {} }))).toBe('model said: hi from 2026');
  });
});
