/**
 * The MCP revision mcpd speaks to each server, with real processes: negotiated by default (a
 * `server/discover` probe, else `initialize`), or pinned by `servers.NAME.protocol`. A 2025
 * server (v1 SDK), a server of both eras (v2 SDK), one that exits on the probe, and pins that
 * cannot be met.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEntry, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { rawPost } from '../support/http.js';

const BOTH_ERAS = { command: process.execPath, args: [join(ROOT, 'test/fixtures/conformance-server.mjs')] };

let t: TestDaemon;

beforeAll(async () => {
  t = await startDaemon({
    servers: {
      old: fixtureEntry(),
      both: BOTH_ERAS,
      'both-pinned-2025': { ...BOTH_ERAS, protocol: '2025-11-25' },
      'both-pinned-2026': { ...BOTH_ERAS, protocol: '2026-07-28' },
      'old-pinned-2026': fixtureEntry({}, { protocol: '2026-07-28' }),
      fragile: fixtureEntry({ FIXTURE_EXIT_ON_DISCOVER: '1' }),
    },
    gateway: { http: { port: 0 } },
  });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const status = (name: string) => t.daemon.status().servers.find((s) => s.name === name)!;

describe('the revision spoken to each server', () => {
  it('negotiated: 2025-11-25 to a server of 2025, 2026-07-28 to one of both eras', () => {
    expect(status('old')).toMatchObject({ state: 'running', protocolVersion: '2025-11-25' });
    expect(status('both')).toMatchObject({ state: 'running', protocolVersion: '2026-07-28' });
  });

  it('pinned: the revision named, and a clear error where the server does not speak it', () => {
    expect(status('both-pinned-2025')).toMatchObject({ state: 'running', protocolVersion: '2025-11-25' });
    expect(status('both-pinned-2026')).toMatchObject({ state: 'running', protocolVersion: '2026-07-28' });
    const pinned = status('old-pinned-2026');
    // Failed at once: retrying the same pin cannot help.
    expect(pinned).toMatchObject({ state: 'failed', restarts: 0 });
    expect(pinned.protocolVersion).toBeNull();
    expect(pinned.lastError?.message).toContain(
      'Server "old-pinned-2026" does not speak MCP 2026-07-28, which servers.old-pinned-2026.protocol pins',
    );
  });

  it('a server that exits on the probe is started again at 2025-11-25, and says why in its log', async () => {
    await waitFor(() => status('fragile').state === 'running' || undefined, 30_000, 'fragile to run');
    expect(status('fragile')).toMatchObject({ protocolVersion: '2025-11-25', restarts: 1 });
    const lines = t.daemon.logs.read('fragile', 200).map((e) => e.text);
    expect(lines.some((l) => l.includes('exited on the server/discover probe'))).toBe(true);
    expect(lines.some((l) => l.includes('fixture: a request before initialize; exiting'))).toBe(true);
  });

  it('a call works the same in either era, through the same catalogue', async () => {
    const client = await t.connect();
    for (const server of ['both', 'both-pinned-2025']) {
      const result = await client.request('tools.call', { name: `${server}__test_simple_text`, arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'This is a simple text response for testing.' }]);
    }
  });
});

describe('questions of a 2026 server, for 2025 clients', () => {
  // A 2025 server's request must be matched to a call in flight (declined when several could
  // have caused it); a 2026 server's question comes in the answer to its call.
  it('go to the client whose call asked, while several such calls are in flight', async () => {
    const base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
    let asked = 0;
    let bothAsked: () => void = () => undefined;
    const barrier = new Promise<void>((resolve) => (bothAsked = resolve));
    const make = async (name: string) => {
      const client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: {} } });
      client.setRequestHandler(ElicitRequestSchema, async () => {
        asked += 1;
        if (asked === 2) bothAsked();
        // Both calls are in flight when either is answered (or the other never came).
        await Promise.race([barrier, new Promise((r) => setTimeout(r, 20_000))]);
        return { action: 'accept', content: { response: `from ${name}` } };
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/servers/both/mcp`)));
      return client;
    };
    const [ada, bob] = [await make('ada'), await make('bob')];
    const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;
    const [a, b] = await Promise.all([
      ada.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } }),
      bob.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } }),
    ]);
    expect(asked).toBe(2);
    expect(text(a)).toBe('User response: action=accept, content={"response":"from ada"}');
    expect(text(b)).toBe('User response: action=accept, content={"response":"from bob"}');
    await Promise.all([ada.close(), bob.close()]);
  }, 60_000);
});

describe('log levels across the eras', () => {
  const base = () => t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
  const REVISION = '2026-07-28';
  let id = 100;

  /** A 2026 call of the logging tool; the log messages its stream carried, then its result. */
  async function call2026(server: string, level?: string) {
    id += 1;
    const meta = {
      'io.modelcontextprotocol/protocolVersion': REVISION,
      'io.modelcontextprotocol/clientInfo': { name: 'a-2026-host', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
      ...(level ? { 'io.modelcontextprotocol/logLevel': level } : {}),
    };
    const answer = await rawPost(
      `${base()}/servers/${server}/mcp`,
      { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'test_logging_tool', arguments: {}, _meta: meta } },
      { 'MCP-Protocol-Version': REVISION, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'test_logging_tool' },
    );
    const messages = answer.body.startsWith('{')
      ? [JSON.parse(answer.body) as Record<string, unknown>]
      : [...answer.body.matchAll(/^data: (.+)$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
    return {
      logs: messages.filter((m) => m['method'] === 'notifications/message').map((m) => (m['params'] as { data: unknown }).data),
      last: messages.at(-1)!,
    };
  }

  it("a 2026 client gets an upstream's log messages on the request that named a level, of either era", async () => {
    for (const server of ['both', 'both-pinned-2025']) {
      const logged = await call2026(server, 'info');
      expect(logged.logs, server).toEqual(['test_logging_tool ran']);
      expect(logged.last).toMatchObject({ id, result: { resultType: 'complete' } });
      // Above the level, or no level named: none (the revision's rule).
      expect((await call2026(server, 'error')).logs, server).toEqual([]);
      const unasked = await call2026(server);
      expect(unasked.logs, server).toEqual([]);
      expect(unasked.last).toMatchObject({ result: { resultType: 'complete' } });
    }
  }, 30_000);

  it("a 2025 session's logging/setLevel reaches a 2026 upstream per request", async () => {
    const heard: { level: string; data: unknown }[] = [];
    const client = new Client({ name: 'leveled', version: '1.0.0' });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void heard.push(n.params));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base()}/servers/both/mcp`)));
    await client.setLoggingLevel('error');
    await client.callTool({ name: 'test_logging_tool', arguments: {} });
    await client.setLoggingLevel('info');
    await client.callTool({ name: 'test_logging_tool', arguments: {} });
    await waitFor(() => heard.length > 0 || undefined, 10_000, 'the log message');
    expect(heard).toEqual([{ level: 'info', logger: 'both', data: 'test_logging_tool ran' }]);
    // mcpd's own log has both calls' messages (it asks for info at least).
    expect(t.daemon.logs.read('both', 500).filter((e) => e.text === 'test_logging_tool ran').length).toBeGreaterThanOrEqual(2);
    await client.close();
  }, 30_000);
});
