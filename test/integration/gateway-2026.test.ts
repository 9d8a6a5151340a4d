/**
 * The HTTP gateway at the 2026-07-28 revision, beside the 2025 sessions on the same URLs: a
 * session-less discover and call reach a 2025-era upstream, and bad input — a header that does not
 * match the body, an unknown version, a malformed _meta — gets that revision's error with the
 * request's id, while a 2025 client keeps its session.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEntry } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const REVISION = '2026-07-28';
let t: TestDaemon;
let base: string;
let nextId = 1;

beforeAll(async () => {
  t = await startDaemon({ servers: { fx: fixtureEntry() }, gateway: { http: { port: 0 } } });
  base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

const META = {
  'io.modelcontextprotocol/protocolVersion': REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'a-2026-host', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** One session-less request; `headers` and `meta` override what a well-behaved client sends. */
async function post(
  path: string,
  method: string,
  params: Record<string, unknown> = {},
  { headers = {}, meta = META }: { headers?: Record<string, string>; meta?: unknown } = {},
) {
  const id = nextId++;
  const name: Record<string, string> = typeof params['name'] === 'string' ? { 'Mcp-Name': params['name'] } : {};
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': REVISION,
      'Mcp-Method': method,
      ...name,
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } }),
  });
  const text = await response.text();
  // A JSON body, or the one result event of a stream.
  const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
  return {
    id,
    status: response.status,
    body: JSON.parse(json) as { id?: unknown; result?: Record<string, unknown>; error?: { code: number } },
  };
}

describe('the HTTP gateway at 2026-07-28', () => {
  it('discovers and calls a 2025-era upstream without a session', async () => {
    const discovered = await post('/servers/fx/mcp', 'server/discover');
    expect(discovered.status).toBe(200);
    expect(discovered.body.result?.['supportedVersions']).toContain(REVISION);
    expect(discovered.body.result?.['capabilities']).toMatchObject({ tools: {} });
    const listed = await post('/servers/fx/mcp', 'tools/list');
    expect(listed.body.result?.['resultType']).toBe('complete');
    expect((listed.body.result?.['tools'] as { name: string }[]).map((tool) => tool.name)).toContain('echo');
    const called = await post('/servers/fx/mcp', 'tools/call', { name: 'echo', arguments: { message: 'from 2026' } });
    expect(called.body).toMatchObject({
      id: called.id,
      result: { resultType: 'complete', content: [{ type: 'text', text: 'from 2026' }] },
    });
    // The merged endpoint names it as the catalogue does.
    const merged = await post('/mcp', 'tools/call', { name: 'fx__echo', arguments: { message: 'merged' } });
    expect(merged.body.result).toMatchObject({ content: [{ text: 'merged' }] });
  });

  it("answers bad input with the revision's error and the request's id", async () => {
    const mismatch = await post(
      '/servers/fx/mcp',
      'tools/call',
      { name: 'echo', arguments: { message: 'x' } },
      { headers: { 'Mcp-Method': 'tools/list' } },
    );
    expect([mismatch.status, mismatch.body.error?.code, mismatch.body.id]).toEqual([400, -32020, mismatch.id]);
    const unknown = await post(
      '/servers/fx/mcp',
      'tools/list',
      {},
      { meta: { ...META, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, headers: { 'MCP-Protocol-Version': '2099-01-01' } },
    );
    expect([unknown.body.error?.code, unknown.body.id]).toEqual([-32022, unknown.id]);
    const malformed = await post('/servers/fx/mcp', 'tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': REVISION } });
    expect([malformed.body.error?.code, malformed.body.id]).toEqual([-32602, malformed.id]);
    const nowhere = await post('/servers/nosuch/mcp', 'tools/list');
    expect(nowhere.status).toBe(404);
  });

  it("turns a 2025 upstream's question during a call into an input-required result, and resumes it on the retry", async () => {
    const asking = { meta: { ...META, 'io.modelcontextprotocol/clientCapabilities': { elicitation: {} } } };
    const first = await post('/servers/fx/mcp', 'tools/call', { name: 'ask', arguments: {} }, asking);
    const result = first.body.result as {
      resultType: string;
      inputRequests: Record<string, { method: string; params: { message: string } }>;
      requestState: string;
    };
    expect(result.resultType).toBe('input_required');
    const [[key, question]] = Object.entries(result.inputRequests) as [[string, { method: string; params: { message: string } }]];
    expect(question).toMatchObject({ method: 'elicitation/create', params: { message: 'What is your name?' } });
    // A forged state is refused before anything reaches the call.
    const forged = await post(
      '/servers/fx/mcp',
      'tools/call',
      {
        name: 'ask',
        arguments: {},
        requestState: `${result.requestState.slice(0, -4)}AAAA`,
        inputResponses: { [key]: { action: 'accept', content: { name: 'Eve' } } },
      },
      asking,
    );
    expect([forged.body.error?.code, forged.body.id]).toEqual([-32602, forged.id]);
    // The real retry answers the question; the same upstream call finishes.
    const retry = await post(
      '/servers/fx/mcp',
      'tools/call',
      {
        name: 'ask',
        arguments: {},
        requestState: result.requestState,
        inputResponses: { [key]: { action: 'accept', content: { name: 'Ada' } } },
      },
      asking,
    );
    expect(retry.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'hello Ada' }] });
    // Once finished, its state names nothing any more.
    const again = await post(
      '/servers/fx/mcp',
      'tools/call',
      { name: 'ask', arguments: {}, requestState: result.requestState, inputResponses: {} },
      asking,
    );
    expect(again.body.error?.code).toBe(-32602);
  });

  it('refuses a call whose server asks what the client did not declare it can answer (-32021)', async () => {
    const refused = await post('/servers/fx/mcp', 'tools/call', { name: 'ask', arguments: {} });
    expect([refused.status, refused.body.error?.code, refused.body.id]).toEqual([400, -32021, refused.id]);
  });

  it('keeps a 2025 session on the same URL working beside it', async () => {
    const client = new Client({ name: 'a-2025-host', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/servers/fx/mcp`)));
    try {
      const [old, now] = await Promise.all([
        client.callTool({ name: 'echo', arguments: { message: 'from 2025' } }),
        post('/servers/fx/mcp', 'tools/call', { name: 'echo', arguments: { message: 'from 2026' } }),
      ]);
      expect(old).toMatchObject({ content: [{ text: 'from 2025' }] });
      expect(now.body.result).toMatchObject({ content: [{ text: 'from 2026' }] });
      expect(t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.sessions).toBe(1);
    } finally {
      await client.close();
    }
  });
});
