/**
 * `mcpd chat` as a user runs it: one-shot (-p, --json, piped stdin), resume, and the interactive
 * REPL on a real pseudo-terminal (util-linux `script`), with Ctrl-C and an approval prompt.
 * The daemon is a real process; the Messages API is our stand-in on loopback.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const api = new MessagesApiStandIn();
const dir = tempDir('mcpd-chat-e2e-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
let env: Record<string, string>;

function mcpd(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    env: options.env ?? env,
    timeout: 30_000,
    ...(options.input === undefined ? { stdin: 'ignore' } : { input: options.input }),
  });
}

beforeAll(async () => {
  await api.start();
  env = { MCPD_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-e2e', ANTHROPIC_BASE_URL: api.url };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(configFile, JSON.stringify({ servers: { fx: fixtureEntry() }, chat: { approval: { ask: ['fx__add_tool'] } } }));
  const started = await mcpd(['start', '--config', configFile]);
  expect(started.exitCode, started.stderr).toBe(0);
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  await api.stop();
  dir.cleanup();
});

describe('mcpd chat -p', () => {
  it('streams one turn, shows tool calls, exits 0', async () => {
    api.script(
      {
        content: [
          { type: 'text', text: 'Echoing for you.' },
          { type: 'tool_use', name: 'fx__echo', input: { message: 'hello' } },
        ],
      },
      { content: [{ type: 'text', text: 'It echoed hello.' }] },
    );
    const result = await mcpd(['chat', '-p', 'echo hello']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('Echoing for you.');
    expect(result.stdout).toMatch(/⚙ fx__echo \{"message":"hello"\}/);
    expect(result.stdout).toMatch(/✓ fx__echo \d+ ms · hello/);
    expect(result.stdout).toContain('It echoed hello.');
    expect(result.stderr).toMatch(/2 steps · 20 in \/ 10 out/);
    expect(result.stderr).toMatch(/session (\S+) \(go on with: mcpd chat --session \1\)/);
  });

  it('--json prints one event per line, then the result', async () => {
    api.script({ content: [{ type: 'text', text: 'json please' }] });
    const result = await mcpd(['chat', '-p', 'as json', '--json']);
    const lines = result.stdout.split('\n').map((l) => JSON.parse(l) as { type: string; stopReason?: string; text?: string });
    expect(lines[0]!.type).toBe('turn_start');
    expect(lines.some((l) => l.type === 'text')).toBe(true);
    expect(lines.at(-2)).toMatchObject({ type: 'turn_end', stopReason: 'end_turn' });
    expect(lines.at(-1)).toMatchObject({ type: 'result', stopReason: 'end_turn', text: 'json please' });
  });

  it('takes piped stdin as the prompt, and --session resumes', async () => {
    api.script({ content: [{ type: 'text', text: 'first answer' }] });
    const first = await mcpd(['chat', '--json'], { input: 'remember the word kumquat\n' });
    expect(api.requests.at(-1)!.body.messages.at(-1)!.content).toEqual([
      { type: 'text', text: 'remember the word kumquat', cache_control: { type: 'ephemeral' } },
    ]);
    const sessionId = (JSON.parse(first.stdout.split('\n').at(-1)!) as { sessionId: string }).sessionId;
    api.script({ content: [{ type: 'text', text: 'kumquat' }] });
    const second = await mcpd(['chat', '--session', sessionId, '-p', 'which word?']);
    expect(second.stdout).toContain('kumquat');
    expect(JSON.stringify(api.requests.at(-1)!.body.messages)).toContain('remember the word kumquat');
  });

  it('an API error: one clear message and exit 1', async () => {
    api.script({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const result = await mcpd(['chat', '-p', 'hi']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('refused the API key (401: invalid x-api-key)');
  });
});

describe('mcpd chat without an API key', () => {
  it('says what to set, exits non-zero, and the rest works', async () => {
    const keyless = { MCPD_HOME: join(dir.path, 'keyless'), ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: api.url };
    expect((await mcpd(['start', '--config', configFile], { env: keyless })).exitCode).toBe(0);
    try {
      const result = await mcpd(['chat', '-p', 'hi'], { env: keyless });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('Chat needs an Anthropic API key, and neither this shell nor the daemon has one.');
      expect(result.stderr).toContain('export ANTHROPIC_API_KEY=sk-ant-…; mcpd stop; mcpd chat');
      expect((await mcpd(['call', 'fx__echo', '{"message":"ok"}'], { env: keyless })).stdout).toBe('ok');
    } finally {
      await mcpd(['stop'], { env: keyless });
    }
  });
});

describe('the mcpd chat REPL (on a pseudo-terminal)', () => {
  it('chats, asks for approval, cancels with Ctrl-C, answers slash commands, quits with Ctrl-D', async () => {
    const repl: ResultPromise = execa('script', ['-qfec', `"${process.execPath}" "${CLI}" chat`, '/dev/null'], {
      env: { ...env, TERM: 'dumb' },
      reject: false,
      stdin: 'pipe',
      timeout: 30_000,
    });
    let screen = '';
    repl.stdout!.on('data', (d: Buffer) => {
      screen += d.toString();
    });
    const type = (text: string) => repl.stdin!.write(text);
    const see = (what: string | RegExp, timeoutMs = 10_000) =>
      waitFor(
        () => (typeof what === 'string' ? screen.includes(what) : what.test(screen)),
        timeoutMs,
        `the screen to show ${String(what)}:\n${screen}`,
      );
    // A line typed while a turn is still ending is not the next message: type it at the prompt.
    const say = async (text: string) => {
      await see(/› $/);
      type(`${text}\r`);
    };

    await see('/help for commands');
    api.script({ content: [{ type: 'text', text: 'Hi from the stand-in.' }] });
    await say('hello');
    await see('Hi from the stand-in.');

    api.script(
      { content: [{ type: 'tool_use', name: 'fx__add_tool', input: { name: 'approved_tool' } }] },
      { content: [{ type: 'text', text: 'Tool added.' }] },
    );
    await say('add a tool');
    await see('[y]es / [n]o / [a]lways');
    type('y'); // one key, no Enter
    await see('Tool added.');
    await see(/✓ fx__add_tool .* added approved_tool/);

    // The server asks during a call: a form on the REPL's prompt, then a sampling approval.
    api.script({ content: [{ type: 'tool_use', name: 'fx__ask', input: {} }] }, { content: [{ type: 'text', text: 'Nice name.' }] });
    await say('ask my name');
    await see('fx (in fx__ask) asks: What is your name?');
    await see('name *');
    type('Grace\r');
    await see(/✓ fx__ask .* hello Grace/);
    await see('Nice name.');
    api.script(
      { content: [{ type: 'tool_use', name: 'fx__sample', input: {} }] },
      { content: [{ type: 'text', text: 'sampled hi' }] },
      { content: [{ type: 'text', text: 'Sampled.' }] },
    );
    await say('sample');
    await see('fx (in fx__sample) asks Claude, up to 20 tokens');
    await see('Say hi');
    type('y\r');
    await see(/✓ fx__sample .* model said: sampled hi/);
    await see('Sampled.');

    api.script({ content: [{ type: 'tool_use', name: 'fx__slow', input: { ms: 20_000 } }] });
    await say('be slow');
    await see('⚙ fx__slow');
    type('\u0003'); // Ctrl-C: cancel the turn, not the REPL
    await see('(cancelled)');
    await see(/✗ fx__slow .* Cancelled by the user while it ran/);

    await say('/usage');
    await see(/Session \S+: 5 turns/);
    await say('/tools');
    await see('fx__echo');
    await say('/model');
    await see('Model: claude-sonnet-5-5. Change it with /model NAME');
    type('\u0004'); // Ctrl-D on an empty line: quit
    const result = await repl;
    expect(result.exitCode).toBe(0);
    expect(screen).not.toContain('went away');
  }, 60_000);
});

describe('mcpd call and a server that samples', () => {
  it('on a terminal, asks the person, then Claude answers; without one, declines with a clear message', async () => {
    const pty = execa('script', ['-qfec', `"${process.execPath}" "${CLI}" call fx__sample`, '/dev/null'], {
      env: { ...env, TERM: 'dumb' },
      reject: false,
      stdin: 'pipe',
      timeout: 30_000,
    });
    let screen = '';
    pty.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    api.script({ content: [{ type: 'text', text: 'hello from Claude' }] });
    await waitFor(() => screen.includes('Allow? [y/N]'), 10_000, `the question:\n${screen}`);
    expect(screen).toContain('Server fx asks Claude (up to 20 tokens, on your API key):');
    pty.stdin.write('y\r');
    expect((await pty).exitCode).toBe(0);
    expect(screen).toContain('model said: hello from Claude');
    expect(api.requests.at(-1)!.body.max_tokens).toBe(20);

    const piped = await mcpd(['call', 'fx__sample']);
    expect(piped.exitCode).toBe(1);
    expect(piped.stderr).toContain('Server fx asked to sample Claude — declined: no terminal to approve it on');
    expect(piped.stderr).toContain('mcpd declined the sampling request of server "fx": the user declined it');
  });
});
