/**
 * Chat over a big catalogue (five server-everything instances, server-memory and our fixture:
 * 100+ tools): the tools go deferred behind the Messages API's tool search, Claude's search and
 * the call of a tool it found run end to end (the stand-in searches the request's deferred tools
 * as the API does, and refuses a deferred tool called before a search found it), the search is a
 * line of its own in the REPL's rendering, and the settings turn it on and off.
 */
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TurnRenderer } from '../../src/cli/chat/render.js';
import type { ControlClient } from '../../src/client/control-client.js';
import type { ChatEvent } from '../../src/protocol/types.js';
import { fixtureEntry, ROOT, tempDir } from '../support/fixtures.js';
import { MessagesApiStandIn, type RecordedRequest } from '../support/messages-api.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const EVERYTHING = {
  command: process.execPath,
  args: [join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
};
const MEMORY = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const api = new MessagesApiStandIn();
const scratch = tempDir('mcpd-tool-search-');
let t: TestDaemon;
let client: ControlClient;
let events: ChatEvent[];

const config = (chat: Record<string, unknown>) => ({
  servers: {
    ...Object.fromEntries(['e1', 'e2', 'e3', 'e4', 'e5'].map((name) => [name, EVERYTHING])),
    memory: { command: process.execPath, args: [MEMORY], env: { MEMORY_FILE_PATH: join(scratch.path, 'memory.jsonl') } },
    fx: fixtureEntry(),
  },
  chat: { system: 'You are a test.', maxSteps: 4, ...chat },
});

beforeAll(async () => {
  await api.start();
  t = await startDaemon(config({ pinnedTools: ['fx__echo'] }), { env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: api.url } });
  client = await t.connect();
  client.on('chat:event', (e) => events.push(e));
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await api.stop();
  scratch.cleanup();
});

afterEach(() => {
  expect(api.pending, 'every scripted reply was used').toBe(0);
  api.requests.length = 0;
});

type SentTool = NonNullable<RecordedRequest['body']['tools']>[number];
const toolsOf = (request: RecordedRequest): SentTool[] => request.body.tools ?? [];

describe('chat over 100+ tools', () => {
  it('sends them deferred behind tool search, and Claude finds and calls one', async () => {
    events = [];
    api.script(
      {
        content: [
          { type: 'text', text: 'Let me find a tool.' },
          { type: 'tool_search', query: 'echo message' },
          { type: 'tool_use', id: 'toolu_found', name: 'e3__echo', input: { message: 'found it' } },
        ],
      },
      { content: [{ type: 'text', text: 'It echoed.' }] },
    );
    const result = await client.request('chat.send', { message: 'echo something' });
    expect(result).toMatchObject({ stopReason: 'end_turn', steps: 2 });

    const [first, second] = api.requests;
    const tools = toolsOf(first!);
    expect(tools.length).toBeGreaterThan(100);
    // The search tool first, the pinned tool beside it (with the cache breakpoint), the rest deferred.
    expect(tools[0]).toEqual({ type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' });
    expect(tools[1]).toMatchObject({ name: 'fx__echo', cache_control: { type: 'ephemeral' } });
    expect(tools[1]!.defer_loading).toBeUndefined();
    expect(tools.slice(2).every((tool) => tool.defer_loading === true && tool.cache_control === undefined)).toBe(true);

    // The search goes back as the API gave it: Claude's next request holds it before the call.
    const assistant = second!.body.messages.at(-2)!.content as { type: string }[];
    expect(assistant.map((b) => b.type)).toEqual(['text', 'server_tool_use', 'tool_search_tool_result', 'tool_use']);
    const results = second!.body.messages.at(-1)!.content as { type: string; content?: { text: string }[] }[];
    expect(results[0]).toMatchObject({
      type: 'tool_result',
      tool_use_id: 'toolu_found',
      content: [{ type: 'text', text: 'Echo: found it' }],
    });

    // The servers' instructions follow the person's system prompt, labelled, cached with it.
    const system = first!.body.system as { text: string; cache_control?: unknown }[];
    expect(system[0]).toEqual({ type: 'text', text: 'You are a test.' });
    expect(system[1]!.text).toContain('<server name="e1">\n# Everything Server');
    expect(system[1]!.cache_control).toEqual({ type: 'ephemeral' });

    // A line of its own for the search, before the call it made possible.
    const search = events.find((e) => e.type === 'tool_search');
    expect(search).toMatchObject({ query: 'echo message' });
    expect((search as { found: string[] }).found).toContain('e3__echo');
    const kinds = events.map((e) => e.type).filter((k) => k === 'tool_search' || k === 'tool_start');
    expect(kinds).toEqual(['tool_search', 'tool_start']);
    const out = new PassThrough();
    let printed = '';
    out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    new TurnRenderer(out, new PassThrough(), false).render(search!);
    expect(printed).toContain('⌕ searched the tools for "echo message": found e1__echo');
  });

  it('a deferred tool the stand-in was not shown a search for is refused, as by the API', async () => {
    // Holds the stand-in to the API's rule, so the test above proves the search was needed.
    api.script({ content: [{ type: 'tool_use', id: 'toolu_blind', name: 'e2__echo', input: { message: 'x' } }] });
    const result = await client.request('chat.send', { message: 'call blind' });
    expect(result).toMatchObject({ stopReason: 'error' });
    expect(result.error?.message).toContain('called before a tool search found it');
  });

  it('goes on after pause_turn, without a tool result of its own', async () => {
    api.script(
      { content: [{ type: 'tool_search', query: 'knowledge graph entities' }], stopReason: 'pause_turn' },
      { content: [{ type: 'text', text: 'Found the memory tools.' }] },
    );
    const result = await client.request('chat.send', { message: 'find memory tools' });
    expect(result).toMatchObject({ stopReason: 'end_turn', steps: 2 });
    const last = api.requests[1]!.body.messages.at(-1)!;
    expect(last.role).toBe('assistant');
    expect((last.content as { type: string }[]).map((b) => b.type)).toEqual(['server_tool_use', 'tool_search_tool_result']);
  });

  it('chat.toolSearch false sends every tool as it is', async () => {
    t.writeConfig(config({ toolSearch: false }));
    await client.request('config.reload', {});
    api.script({ content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { message: 'hi' });
    const tools = toolsOf(api.requests[0]!);
    expect(tools.length).toBeGreaterThan(100);
    expect(tools.some((tool) => tool.defer_loading || tool.name.startsWith('tool_search'))).toBe(false);
    expect(tools.at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
  });
});
