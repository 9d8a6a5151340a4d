/**
 * The gateway's quick paths for tool calls (fronts/mcp/quick-calls.ts for 2025 sessions,
 * fronts/mcp-http/quick.ts for 2026 requests) answer exactly as the SDK's servers do. Each case
 * sends the same call twice: once as a plain call the quick path takes, once with something that
 * sends it to the SDK instead (an extra member the SDK ignores, or a progress token), and the two
 * answers must be the same — results, tool errors, protocol errors, questions, a missing
 * capability — with only the sealed state of a question allowed to differ.
 */
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

interface Answer {
  status: number;
  body: { id?: unknown; result?: Record<string, unknown>; error?: Record<string, unknown> };
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  // A JSON body, or the one result event of a stream.
  const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
  return { status: response.status, body: JSON.parse(json) as Answer['body'] };
}

const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

/** A 2026 tools/call; `slow` adds a progress token, which only the SDK's server takes. */
async function call2026(
  path: string,
  name: string,
  args: Record<string, unknown>,
  capabilities: object,
  slow: boolean,
  retry: Record<string, unknown> = {},
) {
  const id = nextId++;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': REVISION,
    'io.modelcontextprotocol/clientInfo': { name: 'quick-test', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    ...(slow ? { progressToken: `p${id}` } : {}),
  };
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...HEADERS, 'MCP-Protocol-Version': REVISION, 'Mcp-Method': 'tools/call', 'Mcp-Name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: args, ...retry, _meta: meta } }),
  });
  return answerOf(response);
}

/** Answers a question of the fixture's `ask`, so that its call ends (one asking call at a time is routed). */
async function answerAsk(asked: Answer) {
  const done = await call2026('/servers/fx/mcp', 'ask', {}, { elicitation: {} }, false, {
    inputResponses: { mcpd_1: { action: 'accept', content: { name: 'Ada' } } },
    requestState: asked.body.result?.['requestState'],
  });
  expect(done.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'hello Ada' }] });
}

/** A 2025 session on `path`, initialized; its calls, plain or with a member only the SDK's server takes. */
async function session2025(path: string, capabilities: object) {
  const init = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'quick-test', version: '1.0.0' } },
    }),
  });
  const session = init.headers.get('mcp-session-id')!;
  await init.text();
  const headers = { ...HEADERS, 'Mcp-Session-Id': session, 'MCP-Protocol-Version': '2025-11-25' };
  await fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  }).then((r) => r.text());
  return async (name: string, args: Record<string, unknown>, slow: boolean) => {
    const params = { name, arguments: args, ...(slow ? { extra: 'ignored by the SDK' } : {}) };
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params }),
    });
    return answerOf(response);
  };
}

/** The answer without what is sealed per call (a question's state). */
function comparable(answer: Answer): Answer {
  const result = answer.body.result;
  if (result && typeof result['requestState'] === 'string')
    return { ...answer, body: { ...answer.body, result: { ...result, requestState: 'sealed' } } };
  return answer;
}

describe('the quick path answers as the SDK does', () => {
  const cases: [string, string, string, Record<string, unknown>][] = [
    ['a result', '/servers/fx/mcp', 'echo', { message: 'same either way' }],
    ['a result on the merged endpoint', '/mcp', 'fx__echo', { message: 'merged' }],
    ['a tool error', '/servers/fx/mcp', 'fail', {}],
    ['an unknown tool', '/mcp', 'fx__nothing_here', {}],
  ];

  it.each(cases)('2026-07-28: %s', async (_what, path, name, args) => {
    const quick = await call2026(path, name, args, {}, false);
    const sdk = await call2026(path, name, args, {}, true);
    expect(quick).toEqual(sdk);
    expect(quick.body.id).toBe(7);
  });

  it('2026-07-28: a 2025 upstream asking, and a client that cannot answer', async () => {
    const sdk = await call2026('/servers/fx/mcp', 'ask', {}, { elicitation: {} }, true);
    await answerAsk(sdk);
    const quick = await call2026('/servers/fx/mcp', 'ask', {}, { elicitation: {} }, false);
    await answerAsk(quick);
    expect(quick.body.result?.['resultType']).toBe('input_required');
    expect(comparable(quick)).toEqual(comparable(sdk));
    const refusedQuick = await call2026('/servers/fx/mcp', 'ask', {}, {}, false);
    const refusedSdk = await call2026('/servers/fx/mcp', 'ask', {}, {}, true);
    expect(refusedQuick.status).toBe(400);
    expect(refusedQuick.body.error?.['code']).toBe(-32021);
    expect(refusedQuick).toEqual(refusedSdk);
  });

  it.each(cases)('2025-11-25 session: %s', async (_what, path, name, args) => {
    const call = await session2025(path, {});
    const quick = await call(name, args, false);
    const sdk = await call(name, args, true);
    expect(quick).toEqual(sdk);
    expect(quick.body.id).toBe(7);
  });
});
