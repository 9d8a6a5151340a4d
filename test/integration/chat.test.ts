/**
 * Chat end to end inside a real daemon: the real @anthropic-ai/sdk against our scripted stand-in
 * of the Messages API, with real MCP servers (our fixture and server-everything).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SessionStore } from '../../src/chat/session-store.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ControlClient } from '../../src/client/control-client.js';
import { isMcpdError } from '../../src/errors.js';
import type { ChatEvent } from '../../src/protocol/types.js';
import { fixtureEntry, ROOT, tempDir, waitFor } from '../support/fixtures.js';
import { MessagesApiStandIn, type RecordedRequest } from '../support/messages-api.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const api = new MessagesApiStandIn();
const scratch = tempDir('mcpd-chat-');
const eventsFile = join(scratch.path, 'fixture-events.log');
let t: TestDaemon;
let client: ControlClient;
let events: ChatEvent[];

const config = (chat: Record<string, unknown> = {}) => ({
  servers: {
    fx: fixtureEntry({ FIXTURE_EVENTS: eventsFile }),
    everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
  },
  chat: {
    system: 'You are a test.',
    approval: { ask: ['fx__add_tool'], deny: ['fx__die'] },
    maxSteps: 4,
    maxToolResultChars: 500,
    ...chat,
  },
});

beforeAll(async () => {
  await api.start();
  t = await startDaemon(config(), { env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: api.url } });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  await api.stop();
  scratch.cleanup();
});

async function connect(): Promise<ControlClient> {
  const c = await t.connect();
  events = [];
  c.on('chat:event', (e) => events.push(e));
  return c;
}

afterEach(() => {
  expect(api.pending, 'every scripted reply was used').toBe(0);
  api.requests.length = 0;
});

const lastRequest = (): RecordedRequest => api.requests.at(-1)!;
const toolResults = (request: RecordedRequest) =>
  (request.body.messages.at(-1)!.content as { type: string; tool_use_id?: string; content?: unknown; is_error?: boolean }[]).filter(
    (b) => b.type === 'tool_result',
  );

describe('a chat turn', () => {
  it('streams text with no tools, and keeps the session on disk', async () => {
    client = await connect();
    api.script({
      content: [{ type: 'text', text: 'Hello there, I am the stand-in.' }],
      usage: { input_tokens: 100, output_tokens: 9, cache_read_input_tokens: 40 },
    });
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result).toMatchObject({ stopReason: 'end_turn', text: 'Hello there, I am the stand-in.', steps: 1 });
    expect(result.usage).toEqual({ inputTokens: 100, outputTokens: 9, cacheCreationInputTokens: 0, cacheReadInputTokens: 40 });
    const deltas = events.filter((e) => e.type === 'text');
    expect(deltas.length).toBeGreaterThan(2); // it streamed, in pieces
    expect(events[0]).toMatchObject({ type: 'turn_start', model: 'claude-sonnet-5-5' });
    expect(events.at(-1)).toMatchObject({ type: 'turn_end', stopReason: 'end_turn' });

    const body = lastRequest().body;
    expect(body.stream).toBe(true);
    expect(body.model).toBe('claude-sonnet-5-5');
    expect(lastRequest().headers['authorization']).toBe('Bearer sk-ant-test'); // how SDK 1.x sends the key
    // Prompt caching: the tool list, the system prompt and the conversation prefix.
    expect(body.tools!.at(-1)!.cache_control).toEqual({ type: 'ephemeral' });
    expect(body.tools!.slice(0, -1).every((tool) => tool.cache_control === undefined)).toBe(true);
    // The person's system prompt, then what the servers say of their own use (server-everything does), cached as one.
    expect(body.system).toEqual([
      { type: 'text', text: 'You are a test.' },
      { type: 'text', text: expect.stringContaining('<server name="everything">'), cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.messages.at(-1)!.content).toEqual([{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }]);
    // The catalogue after allow/deny: namespaced names only.
    expect(body.tools!.map((x) => x.name)).toEqual(expect.arrayContaining(['fx__echo', 'everything__echo']));
    // A tool chat.approval.deny forbids is not offered at all.
    expect(body.tools!.map((x) => x.name)).not.toContain('fx__die');

    // On disk as JSON Lines: the messages, then state records; loaded back whole.
    const file = readFileSync(join(t.home, 'sessions', `${result.sessionId}.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(file.filter((r) => 'm' in r)).toHaveLength(2);
    const saved = new SessionStore(join(t.home, 'sessions')).load(result.sessionId);
    expect(saved.messages).toHaveLength(2);
    expect(saved.title).toBe('hi');
    expect(saved.usage).toEqual(result.sessionUsage);
  });

  it('runs a tool and sends its result back as tool_result', async () => {
    client = await connect();
    api.script(
      {
        content: [
          { type: 'text', text: 'Let me echo.' },
          { type: 'tool_use', id: 'toolu_echo1', name: 'fx__echo', input: { message: 'ping' } },
        ],
      },
      { content: [{ type: 'text', text: 'It said ping.' }] },
    );
    const result = await client.request('chat.send', { message: 'echo ping' });
    expect(result).toMatchObject({ stopReason: 'end_turn', steps: 2 });
    // The last block of the history carries the conversation's cache breakpoint.
    expect(toolResults(lastRequest())).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_echo1', content: [{ type: 'text', text: 'ping' }], cache_control: { type: 'ephemeral' } },
    ]);
    expect(events.filter((e) => e.type === 'tool_start')).toEqual([
      expect.objectContaining({ name: 'fx__echo', input: { message: 'ping' } }),
    ]);
    expect(events.find((e) => e.type === 'tool_end')).toMatchObject({ ok: true, summary: 'ping' });
  });

  it('runs all tool_use blocks of one response concurrently', async () => {
    client = await connect();
    api.script(
      {
        content: [
          { type: 'tool_use', id: 'toolu_a', name: 'fx__slow', input: { ms: 1000 } },
          { type: 'tool_use', id: 'toolu_b', name: 'fx__slow', input: { ms: 1000 } },
          { type: 'tool_use', id: 'toolu_c', name: 'everything__echo', input: { message: 'c' } },
        ],
      },
      { content: [{ type: 'text', text: 'done' }] },
    );
    await client.request('chat.send', { message: 'three at once' });
    const starts = events.filter((e) => e.type === 'tool_start');
    const ends = events.filter((e) => e.type === 'tool_end');
    expect(starts).toHaveLength(3);
    // All three started before the first slow one ended: they ran at once, not in sequence.
    expect(events.indexOf(starts[2]!)).toBeLessThan(events.indexOf(ends.find((e) => e.name === 'fx__slow')!));
    const second = api.requests.at(-1)!;
    expect(toolResults(second).map((r) => r.tool_use_id)).toEqual(['toolu_a', 'toolu_b', 'toolu_c']);
  });

  it("shows a tool's progress to the clients watching the turn", async () => {
    client = await connect();
    api.script(
      { content: [{ type: 'tool_use', id: 'toolu_p', name: 'fx__progress', input: { ms: 200, every: 50 } }] },
      { content: [{ type: 'text', text: 'done' }] },
    );
    await client.request('chat.send', { message: 'with progress' });
    const progress = events.filter((e): e is Extract<ChatEvent, { type: 'tool_progress' }> => e.type === 'tool_progress');
    expect(progress.map((e) => [e.id, e.progress, e.total])).toEqual([
      ['toolu_p', 1, 4],
      ['toolu_p', 2, 4],
      ['toolu_p', 3, 4],
      ['toolu_p', 4, 4],
    ]);
    // Before the tool's end.
    expect(events.indexOf(progress.at(-1)!)).toBeLessThan(events.findIndex((e) => e.type === 'tool_end'));
  });

  it('passes a tool error as is_error, and a denied tool as an error Claude can read', async () => {
    client = await connect();
    api.script(
      {
        content: [
          { type: 'tool_use', id: 'toolu_f', name: 'fx__fail', input: {} },
          { type: 'tool_use', id: 'toolu_d', name: 'fx__die', input: {} },
        ],
      },
      { content: [{ type: 'text', text: 'ok' }] },
    );
    await client.request('chat.send', { message: 'fail please' });
    const [failed, denied] = toolResults(lastRequest());
    expect(failed).toMatchObject({ tool_use_id: 'toolu_f', is_error: true, content: [{ type: 'text', text: 'it failed on purpose' }] });
    expect(denied).toMatchObject({ tool_use_id: 'toolu_d', is_error: true });
    expect(JSON.stringify(denied)).toContain('chat.approval.deny');
  });

  it('keeps images as images', async () => {
    client = await connect();
    api.script(
      { content: [{ type: 'tool_use', id: 'toolu_img', name: 'everything__get-tiny-image', input: {} }] },
      { content: [{ type: 'text', text: 'a tiny image' }] },
    );
    await client.request('chat.send', { message: 'show me' });
    const [result] = toolResults(lastRequest());
    const blocks = result!.content as { type: string; source?: { type: string; media_type: string; data: string } }[];
    const image = blocks.find((b) => b.type === 'image');
    expect(image?.source).toMatchObject({ type: 'base64', media_type: 'image/png' });
    expect(image!.source!.data.length).toBeGreaterThan(100);
  });

  it('cuts a long tool result with a clear marker and keeps the full text on disk', async () => {
    client = await connect();
    api.script(
      { content: [{ type: 'tool_use', id: 'toolu_big', name: 'fx__big', input: { bytes: 2000 } }] },
      { content: [{ type: 'text', text: 'long' }] },
    );
    const result = await client.request('chat.send', { message: 'big' });
    const [tool] = toolResults(lastRequest());
    const texts = (tool!.content as { text: string }[]).map((b) => b.text);
    expect(texts[0]).toHaveLength(500);
    const file = join(t.home, 'tool-results', result.sessionId, 'toolu_big.txt');
    expect(texts[1]).toContain(`The full text is in ${file}`);
    expect(readFileSync(file, 'utf8')).toHaveLength(2000);
    expect(events.find((e) => e.type === 'tool_end')).toMatchObject({ truncated: true });
  });

  it('stops at chat.maxSteps and says so', async () => {
    client = await connect();
    const loop = { content: [{ type: 'tool_use' as const, name: 'fx__echo', input: { message: 'again' } }] };
    api.script(loop, loop, loop, loop);
    const result = await client.request('chat.send', { message: 'loop forever' });
    expect(result).toMatchObject({ stopReason: 'max_steps', steps: 4 });
    expect(events.find((e) => e.type === 'notice')).toMatchObject({
      message: expect.stringContaining('Stopped after 4 steps (chat.maxSteps)'),
    });
  });
});

describe('cancelling a turn', () => {
  it('mid-stream: the API request stops, the partial text is kept, and the session goes on', async () => {
    client = await connect();
    api.script({ content: [{ type: 'text', text: 'This answer will never be finished by the stand-in.' }], hangAfterEvents: 5 });
    const pending = client.request('chat.send', { message: 'talk' });
    const first = await waitFor(() => events.find((e) => e.type === 'text'), 5_000, 'streamed text');
    expect(await client.request('chat.cancel', { sessionId: first.sessionId })).toEqual({ cancelled: true });
    const result = await pending;
    expect(result.stopReason).toBe('cancelled');
    // The next turn in the same session is a valid request: the history alternates.
    api.script({ content: [{ type: 'text', text: 'resumed' }] });
    const next = await client.request('chat.send', { sessionId: first.sessionId, message: 'go on' });
    expect(next.text).toBe('resumed');
    const roles = lastRequest().body.messages.map((m) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'user']);
  });

  it('mid-tool: the running call is cancelled at the server (MCP cancel), and Claude gets a result for it', async () => {
    client = await connect();
    api.script({ content: [{ type: 'tool_use', id: 'toolu_slow', name: 'fx__slow', input: { ms: 20_000 } }] });
    const pending = client.request('chat.send', { message: 'slow' });
    const start = await waitFor(() => events.find((e) => e.type === 'tool_start'), 5_000, 'tool start');
    await client.request('chat.cancel', { sessionId: start.sessionId });
    const result = await pending;
    expect(result.stopReason).toBe('cancelled');
    await waitFor(
      () => existsSync(eventsFile) && readFileSync(eventsFile, 'utf8').includes('cancelled slow'),
      5_000,
      'the MCP cancellation',
    );
    api.script({ content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { sessionId: start.sessionId, message: 'never mind' });
    // The tool_use got its tool_result (is_error), and the new prompt was merged after it.
    const last = lastRequest().body.messages.at(-1)!.content as { type: string; is_error?: boolean; text?: string }[];
    expect(last[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_slow', is_error: true });
    expect(JSON.stringify(last[0])).toContain('Cancelled by the user while it ran.');
    expect(last.at(-1)).toMatchObject({ type: 'text', text: 'never mind' });
  });
});

describe('approval', () => {
  it('asks the client that started the turn: yes runs the tool, no tells Claude', async () => {
    client = await connect();
    client.on('chat:event', (e) => {
      if (e.type === 'approval_request')
        void client.request('chat.approve', {
          requestId: e.requestId,
          decision: (e.input as { name: string }).name === 'yes_tool' ? 'yes' : 'no',
        });
    });
    api.script(
      {
        content: [
          { type: 'tool_use', id: 'toolu_y', name: 'fx__add_tool', input: { name: 'yes_tool' } },
          { type: 'tool_use', id: 'toolu_n', name: 'fx__add_tool', input: { name: 'no_tool' } },
        ],
      },
      { content: [{ type: 'text', text: 'ok' }] },
    );
    await client.request('chat.send', { message: 'add tools', canApprove: true });
    const [yes, no] = toolResults(lastRequest());
    expect(yes).toMatchObject({ tool_use_id: 'toolu_y', content: [{ type: 'text', text: 'added yes_tool' }] });
    expect(no).toMatchObject({ tool_use_id: 'toolu_n', is_error: true });
    expect(JSON.stringify(no)).toContain('The user declined');
    expect(events.filter((e) => e.type === 'approval_request')).toHaveLength(2);
  });

  it('denies an ask tool when no client can answer, and tells Claude why', async () => {
    client = await connect();
    api.script(
      { content: [{ type: 'tool_use', id: 'toolu_q', name: 'fx__add_tool', input: { name: 'q' } }] },
      { content: [{ type: 'text', text: 'ok' }] },
    );
    await client.request('chat.send', { message: 'add', canApprove: false });
    expect(JSON.stringify(toolResults(lastRequest())[0])).toContain('no client that can answer was attached');
  });
});

describe('a server asks during a chat turn', () => {
  const useFx = (tool: string, id: string) => ({ content: [{ type: 'tool_use' as const, id, name: `fx__${tool}`, input: {} }] });
  const setSampling = async (sampling: 'ask' | 'allow' | 'deny') => {
    t.writeConfig({ ...config(), chat: { ...config().chat, sampling } });
    await client.request('config.reload', {});
  };

  it('elicitation: the person who started the turn fills the form, and the tool gets the answer', async () => {
    client = await connect();
    client.on('chat:event', (e) => {
      if (e.type === 'elicitation_request')
        void client.request('chat.answer', { requestId: e.requestId, result: { action: 'accept', content: { name: 'Ada' } } });
    });
    api.script(useFx('ask', 'toolu_ask'), { content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { message: 'ask me', canApprove: true });
    expect(toolResults(lastRequest())[0]).toMatchObject({ tool_use_id: 'toolu_ask', content: [{ type: 'text', text: 'hello Ada' }] });
    expect(events.find((e) => e.type === 'elicitation_request')).toMatchObject({
      server: 'fx',
      tool: 'fx__ask',
      message: 'What is your name?',
      requestedSchema: { properties: { name: { type: 'string' } }, required: ['name'] },
    });
  });

  it('elicitation: a bad answer is refused, and a cancelled turn takes the question down', async () => {
    client = await connect();
    let asked: ChatEvent | undefined;
    client.on('chat:event', (e) => {
      if (e.type === 'elicitation_request') asked = e;
    });
    api.script(useFx('ask', 'toolu_ask2'));
    const session = await client.request('chat.new', {});
    const turn = client.request('chat.send', { sessionId: session.id, message: 'ask me', canApprove: true });
    await waitFor(() => asked, 10_000);
    const requestId = (asked as { requestId: string }).requestId;
    await expect(client.request('chat.answer', { requestId, result: { action: 'maybe' } as never })).rejects.toThrow(/elicitation result/);
    await client.request('chat.cancel', { sessionId: session.id });
    expect((await turn).stopReason).toBe('cancelled');
    expect(events.some((e) => e.type === 'request_closed' && e.requestId === requestId)).toBe(true);
    expect(await client.request('chat.answer', { requestId, result: { action: 'decline' } })).toEqual({ ok: false });
    api.requests.length = 0;
    api.script({ content: [{ type: 'text', text: 'still here' }] });
    expect((await client.request('chat.send', { sessionId: session.id, message: 'again' })).text).toBe('still here');
  });

  it('elicitation: declined, with a log line saying why, when nobody can answer (chat -p)', async () => {
    client = await connect();
    api.script(useFx('ask', 'toolu_ask3'), { content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { message: 'ask me', canApprove: false });
    expect(toolResults(lastRequest())[0]).toMatchObject({ content: [{ type: 'text', text: 'no answer (decline)' }] });
    const { entries } = await client.request('logs.read', { server: 'fx', lines: 20 });
    expect(entries.map((e) => e.text).join('\n')).toMatch(
      /declined: server "fx" sent an elicitation and no call in flight comes from a caller that can answer it/,
    );
  });

  it('sampling (chat.sampling "ask", the default): asked first, then answered by Claude, and counted in the session', async () => {
    client = await connect();
    client.on('chat:event', (e) => {
      if (e.type === 'sampling_request') void client.request('chat.approve', { requestId: e.requestId, decision: 'yes' });
    });
    api.script(
      useFx('sample', 'toolu_s'),
      { content: [{ type: 'text', text: 'hi from Claude' }], usage: { input_tokens: 7, output_tokens: 4 } },
      { content: [{ type: 'text', text: 'done' }] },
    );
    const result = await client.request('chat.send', { message: 'sample', canApprove: true });
    expect(api.requests).toHaveLength(3);
    const sampling = api.requests[1]!.body;
    expect(sampling.stream).toBeFalsy();
    expect(sampling.max_tokens).toBe(20);
    expect(sampling.tools).toBeUndefined();
    expect(sampling.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Say hi' }] }]);
    expect(toolResults(lastRequest())[0]).toMatchObject({
      tool_use_id: 'toolu_s',
      content: [{ type: 'text', text: 'model said: hi from Claude' }],
    });
    expect(events.find((e) => e.type === 'sampling_request')).toMatchObject({
      server: 'fx',
      tool: 'fx__sample',
      preview: 'Say hi',
      maxTokens: 20,
    });
    expect(events.find((e) => e.type === 'notice')).toMatchObject({ message: 'fx sampled claude-sonnet-5-5 (7 in / 4 out tokens)' });
    // Two chat steps of 10 in / 5 out, and the sampling.
    expect(result.sessionUsage).toMatchObject({ inputTokens: 27, outputTokens: 14 });
  });

  it('sampling: "no" tells the server the user declined; nobody to ask declines it', async () => {
    client = await connect();
    client.on('chat:event', (e) => {
      if (e.type === 'sampling_request') void client.request('chat.approve', { requestId: e.requestId, decision: 'no' });
    });
    api.script(useFx('sample', 'toolu_s2'), { content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { message: 'sample', canApprove: true });
    expect(JSON.stringify(toolResults(lastRequest())[0])).toContain(
      'mcpd declined the sampling request of server \\"fx\\": the user declined it',
    );
    api.script(useFx('sample', 'toolu_s3'), { content: [{ type: 'text', text: 'ok' }] });
    await client.request('chat.send', { message: 'sample', canApprove: false });
    expect(JSON.stringify(toolResults(lastRequest())[0])).toMatch(
      /sent a sampling request and no call in flight comes from a caller that can answer it/,
    );
    expect(api.requests).toHaveLength(4); // no sampling request reached the API
  });

  it('sampling: "allow" answers without asking, "deny" refuses with the rule named', async () => {
    client = await connect();
    try {
      await setSampling('allow');
      api.script(
        useFx('sample', 'toolu_s4'),
        { content: [{ type: 'text', text: 'allowed' }] },
        { content: [{ type: 'text', text: 'ok' }] },
      );
      await client.request('chat.send', { message: 'sample', canApprove: false });
      expect(toolResults(lastRequest())[0]).toMatchObject({ content: [{ type: 'text', text: 'model said: allowed' }] });
      expect(events.some((e) => e.type === 'sampling_request')).toBe(false);

      await setSampling('deny');
      api.script(useFx('sample', 'toolu_s5'), { content: [{ type: 'text', text: 'ok' }] });
      await client.request('chat.send', { message: 'sample', canApprove: true });
      expect(JSON.stringify(toolResults(lastRequest())[0])).toContain('its config forbids sampling (chat.sampling is \\"deny\\")');
    } finally {
      t.writeConfig(config());
      await client.request('config.reload', {});
    }
  });
});

describe('a second client', () => {
  it('attaches to a session and sees its stream', async () => {
    client = await connect();
    const watcher = await t.connect();
    const seen: ChatEvent[] = [];
    watcher.on('chat:event', (e) => seen.push(e));
    const { id } = await client.request('chat.new', {});
    await watcher.request('chat.attach', { sessionId: id });
    api.script({ content: [{ type: 'text', text: 'for both of you' }] });
    await client.request('chat.send', { sessionId: id, message: 'hello both' });
    await waitFor(() => seen.some((e) => e.type === 'turn_end'), 5_000, 'the watcher to see the end');
    expect(
      seen
        .filter((e) => e.type === 'text')
        .map((e) => (e as { text: string }).text)
        .join(''),
    ).toBe('for both of you');
    const { sessions } = await watcher.request('chat.sessions', {});
    expect(sessions.find((s) => s.id === id)).toMatchObject({ turns: 1, title: 'hello both' });
  });
});

describe('Messages API errors', () => {
  it('401: a clear message, and the session stays usable', async () => {
    client = await connect();
    api.script({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result).toMatchObject({
      stopReason: 'error',
      error: { code: 'MCPD_CHAT_AUTH_FAILED', message: expect.stringContaining('invalid x-api-key') },
    });
    api.script({ content: [{ type: 'text', text: 'fine now' }] });
    expect((await client.request('chat.send', { sessionId: result.sessionId, message: 'again' })).text).toBe('fine now');
  });

  it('429: waits as retry-after says, tells the client, then succeeds', async () => {
    client = await connect();
    api.script(
      { kind: 'error', status: 429, type: 'rate_limit_error', message: 'slow down', headers: { 'retry-after': '1' } },
      { content: [{ type: 'text', text: 'after the wait' }] },
    );
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result.text).toBe('after the wait');
    expect(api.requests).toHaveLength(2);
    expect(events.find((e) => e.type === 'notice')).toMatchObject({ message: expect.stringMatching(/Rate limited.*retrying in 1\.0 s/) });
  });

  it('429 until retries run out: MCPD_CHAT_RATE_LIMITED', async () => {
    client = await connect();
    const limited = {
      kind: 'error' as const,
      status: 429,
      type: 'rate_limit_error',
      message: 'slow down',
      headers: { 'retry-after': '0' },
    };
    api.script(limited, limited, limited, limited);
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result.error).toMatchObject({ code: 'MCPD_CHAT_RATE_LIMITED', message: expect.stringContaining('tried 4 times') });
  });

  it('529 overloaded: MCPD_CHAT_OVERLOADED after retries', async () => {
    client = await connect();
    const overloaded = {
      kind: 'error' as const,
      status: 529,
      type: 'overloaded_error',
      message: 'Overloaded',
      headers: { 'retry-after': '0' },
    };
    api.script(overloaded, overloaded, overloaded, overloaded);
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result.error).toMatchObject({ code: 'MCPD_CHAT_OVERLOADED', message: expect.stringContaining('overloaded (529)') });
  });

  it('network loss: MCPD_CHAT_NETWORK, session intact', async () => {
    client = await connect();
    api.script({ kind: 'drop' }, { kind: 'drop' }, { kind: 'drop' }, { kind: 'drop' });
    const result = await client.request('chat.send', { message: 'hi' });
    expect(result.error).toMatchObject({ code: 'MCPD_CHAT_NETWORK' });
    const { messages } = await client.request('chat.history', { sessionId: result.sessionId });
    expect(messages).toEqual([{ role: 'user', text: 'hi' }]);
  }, 15_000);
});

describe('resume', () => {
  it('continues a session after the daemon restarted', async () => {
    client = await connect();
    api.script({ content: [{ type: 'text', text: 'remember 42' }] });
    const first = await client.request('chat.send', { message: 'the number is 42' });
    await t.restart();
    client = await connect();
    api.script({ content: [{ type: 'text', text: 'it was 42' }] });
    const second = await client.request('chat.send', { sessionId: first.sessionId, message: 'what was it?' });
    expect(second.text).toBe('it was 42');
    expect(lastRequest().body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(lastRequest().body.messages[0])).toContain('the number is 42');
    expect(second.sessionUsage.inputTokens).toBe(first.sessionUsage.inputTokens + second.usage.inputTokens);
  }, 30_000);

  it("a daemon that stops mid-turn ends it as an error saying so, not as the user's cancel", async () => {
    client = await connect();
    api.script({ content: [{ type: 'tool_use', id: 'toolu_slow', name: 'fx__slow', input: { ms: 20_000 } }] });
    const pending = client.request('chat.send', { message: 'be slow' });
    await waitFor(() => events.some((e) => e.type === 'tool_start') || undefined, 10_000, 'the tool to start');
    const restarting = t.restart();
    const result = await pending;
    expect(result).toMatchObject({
      stopReason: 'error',
      error: { code: 'MCPD_CLOSED', message: expect.stringContaining('The daemon stopped during the turn') },
    });
    expect(events.find((e) => e.type === 'tool_end')).toMatchObject({
      ok: false,
      summary: expect.stringContaining('Stopped because the daemon is stopping, while it ran.'),
    });
    await restarting;
  }, 30_000);
});

describe('without an API key', () => {
  it('chat says what to set; everything else works', async () => {
    const keyless = await startDaemon({ servers: { fx: fixtureEntry() } }, { env: {} });
    try {
      const c = await keyless.connect();
      await expect(c.request('chat.send', { message: 'hi' })).rejects.toSatisfy(
        (e: unknown) => isMcpdError(e, 'MCPD_CHAT_NO_API_KEY') && (e as Error).message.includes('set ANTHROPIC_API_KEY'),
      );
      expect((await c.request('tools.call', { name: 'fx__echo', arguments: { message: 'still works' } })).content[0]).toMatchObject({
        text: 'still works',
      });
    } finally {
      await keyless.stop();
    }
  });
});
