/**
 * The "Build an MCP client" tutorial's job in one command, as a new user runs it: `mcpd chat
 * ./weather.js` in a folder with no config and no daemon. Real daemon, real server scripts (the
 * tutorial's weather server in JavaScript, TypeScript, a shell wrapper, and Python where the
 * `mcp` package is installed), the real Anthropic SDK against our Messages API stand-in.
 */
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/protocol/types.js';
import { CLI, ROOT, fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const TUTORIAL = join(ROOT, 'test/fixtures/tutorial');
/** A venv with Python's `mcp` package, made by .ci/run before the tests (the tests have no network). */
const PYTHON_VENV = process.env['MCPD_TEST_PYTHON_VENV'] ?? join(ROOT, '.ci/pyvenv');

const api = new MessagesApiStandIn();
const dir = tempDir('mcpd-tutorial-');
const home = join(dir.path, 'home');
/** The user's folder: the scripts (symlinks: their imports resolve from where they really are), no config. */
const project = join(dir.path, 'project');
let env: Record<string, string>;

function mcpd(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    cwd: options.cwd ?? project,
    timeout: 60_000,
    env: options.env ?? env,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
}

async function status(): Promise<DaemonStatus> {
  const result = await mcpd(['status', '--json', '--no-start']);
  return JSON.parse(result.stdout) as DaemonStatus;
}

/** The daemon removes a chat's servers once its connection closed: wait for that. */
function noChatServers(): Promise<true> {
  return waitFor(async () => (await status()).servers.every((s) => !s.ephemeral) || undefined, 20_000, 'the chat servers to stop');
}

beforeAll(async () => {
  await api.start();
  mkdirSync(project, { recursive: true });
  for (const file of ['weather.js', 'weather.ts', 'notes.txt']) symlinkSync(join(TUTORIAL, file), join(project, file));
  // Nothing of the machine's: no user config, and the key the person exported.
  env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir.path,
    XDG_CONFIG_HOME: join(dir.path, 'xdg'),
    MCPD_HOME: home,
    ANTHROPIC_API_KEY: 'sk-ant-tutorial',
    ANTHROPIC_BASE_URL: api.url,
  };
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  await api.stop();
  dir.cleanup();
});

describe('mcpd chat SCRIPT', () => {
  it('refuses what is not a server script, before starting anything (exit 2)', async () => {
    const text = await mcpd(['chat', './notes.txt', '-p', 'hi']);
    expect(text.exitCode).toBe(2);
    expect(text.stderr).toContain('Server script must be a .py, .js or .ts file, or an executable: ./notes.txt');
    const missing = await mcpd(['chat', 'weather.pyy', '-p', 'hi']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`No such file: weather.pyy (looked for ${join(project, 'weather.pyy')})`);
    expect(existsSync(join(home, 'mcpd.sock'))).toBe(false);
  });

  it('runs the tutorial in one command: starts the daemon, connects the script, chats over its tools, stops it', async () => {
    api.script(
      { content: [{ type: 'tool_use', name: 'weather__get_forecast', input: { latitude: 38.58, longitude: -121.49 } }] },
      { content: [{ type: 'text', text: 'Tonight is clear and 54°F in Sacramento.' }] },
    );
    const before = api.requests.length;
    const chat = await mcpd(['chat', './weather.js', '-p', "What's the weather in Sacramento?"]);
    expect(chat.exitCode, chat.stderr).toBe(0);
    expect(chat.stderr).toMatch(/mcpd started \(pid \d+/);
    expect(chat.stderr).toContain('Connected to weather with tools: ["get_alerts", "get_forecast"]');
    expect(chat.stdout).toContain('Tonight is clear and 54°F in Sacramento.');
    // Claude was offered the script's tools, namespaced, and the call went through the daemon.
    const first = api.requests[before]!;
    expect(first.body.tools?.map((t) => t.name)).toEqual(expect.arrayContaining(['weather__get_alerts', 'weather__get_forecast']));
    expect(JSON.stringify(api.requests[before + 1]!.body.messages.at(-1))).toContain('Forecast for 38.58,-121.49');
    // Gone with the chat; never written to a config.
    await noChatServers();
    expect(existsSync(join(dir.path, 'xdg/mcpd/mcp.config.json'))).toBe(false);
    expect(existsSync(join(project, 'mcp.config.json'))).toBe(false);
  });

  it('shows the script in status while the chat runs; no other chat and no MCP client sees its tools', async () => {
    // The first chat's reply streams slowly, so that it is still running while we look.
    api.script(
      { content: [{ type: 'text', text: 'slowly, word by word, the answer comes' }], eventDelayMs: 400 },
      { content: [{ type: 'text', text: 'the other chat' }] },
    );
    const before = api.requests.length;
    const slow = mcpd(['chat', 'weather.ts', '-p', 'forecast?']);
    const running = await waitFor(
      async () => (await status()).servers.find((s) => s.ephemeral && s.state === 'running'),
      30_000,
      'the chat server running',
    );
    expect(running).toMatchObject({ name: 'weather', state: 'running', ephemeral: { script: join(project, 'weather.ts') } });
    await waitFor(() => api.requests.length > before || undefined, 20_000, 'the first chat to ask Claude');
    const other = await mcpd(['chat', '-p', 'and you?']);
    expect(other.exitCode, other.stderr).toBe(0);
    expect(api.requests[before + 1]!.body.tools?.some((t) => t.name.startsWith('weather__')) ?? false).toBe(false);
    // The bridge (what Claude Desktop runs) lists no tool of it either.
    const bridge = await mcpd(['bridge'], {
      input: `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`,
    });
    const listed = bridge.stdout.split('\n').find((l) => l.includes('"id":2'));
    expect(listed, bridge.stderr).toBeDefined();
    expect(listed).not.toContain('weather__');
    const done = await slow;
    expect(done.exitCode, done.stderr).toBe(0);
    expect(done.stderr).toContain('Connected to weather with tools: ["get_forecast"]');
    expect(api.requests[before]!.body.tools?.map((t) => t.name)).toContain('weather__get_forecast');
    await noChatServers();
  });

  it('runs an executable script as itself, and names a second one of the same name apart', async () => {
    const wrapper = join(project, 'forecast');
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${join(TUTORIAL, 'weather.js')}"\n`);
    chmodSync(wrapper, 0o755);
    api.script({ content: [{ type: 'text', text: 'two of them' }] });
    const result = await mcpd(['chat', './forecast', './weather.js', join(project, 'weather.js'), '-p', 'hi']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Connected to forecast with tools: ["get_alerts", "get_forecast"]');
    expect(result.stderr).toContain('Connected to weather with tools:');
    expect(result.stderr).toContain('Connected to weather-2 with tools:');
    await noChatServers();
  });

  it('says why a script did not start, with its stderr, and chats nowhere (exit 1)', async () => {
    writeFileSync(join(project, 'broken.js'), "import './no-such-module.js';\n");
    const result = await mcpd(['chat', './broken.js', '-p', 'hi']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${join(project, 'broken.js')} did not start as an MCP server`);
    expect(result.stderr).toContain('Cannot find module');
    await noChatServers();
  });

  it('runs the Python tutorial server from the venv beside it', async (context) => {
    const python = join(PYTHON_VENV, 'bin/python');
    const probe = existsSync(python) ? await execa(python, ['-c', 'import mcp.server'], { reject: false }) : undefined;
    if (!probe || probe.exitCode !== 0) {
      context.skip(
        `no venv with Python's mcp package at ${PYTHON_VENV} (.ci/run makes it with pip before the tests; set MCPD_TEST_PYTHON_VENV)`,
      );
      return;
    }
    const folder = join(dir.path, 'py');
    mkdirSync(folder);
    symlinkSync(join(TUTORIAL, 'weather.py'), join(folder, 'weather.py'));
    symlinkSync(PYTHON_VENV, join(folder, '.venv'));
    api.script(
      { content: [{ type: 'tool_use', name: 'weather__get_alerts', input: { state: 'CA' } }] },
      { content: [{ type: 'text', text: 'A heat advisory.' }] },
    );
    const before = api.requests.length;
    const result = await mcpd(['chat', './weather.py', '-p', 'alerts in CA?'], { cwd: folder });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('Connected to weather with tools: ["get_alerts", "get_forecast"]');
    expect(JSON.stringify(api.requests[before + 1]!.body.messages.at(-1))).toContain('Heat Advisory: Sacramento Valley');
    // Python's mcp 2.x answers server/discover: mcpd spoke 2026-07-28 to it.
    const logs = await mcpd(['logs', 'weather', '-n', '50']);
    expect(logs.stdout).toMatch(/running: 2 tools, .* \(MCP 2026-07-28\)/);
    await noChatServers();
  });
});

describe('the daemon, started when needed', () => {
  it('--no-start says how to start it (exit 3); tools and call start it', async () => {
    await mcpd(['stop']);
    const refused = await mcpd(['tools', '--no-start']);
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain('mcpd is not running');
    const config = join(dir.path, 'fx.config.json');
    writeFileSync(config, JSON.stringify({ servers: { fx: fixtureEntry() } }));
    const call = await mcpd(['call', 'fx__echo', '{"message":"hi"}', '--config', config]);
    expect(call.exitCode, call.stderr).toBe(0);
    expect(call.stderr).toMatch(/mcpd started \(pid \d+/);
    expect(call.stdout).toContain('hi');
    const tools = await mcpd(['tools', '--json']);
    expect(tools.exitCode).toBe(0);
    expect(tools.stderr).not.toContain('mcpd started');
  });

  it('a key in the shell but not in the daemon: says so, and how to fix it', async () => {
    await mcpd(['stop']);
    const keyless = { ...env, ANTHROPIC_API_KEY: '' };
    const started = await mcpd(['start', '--config', join(dir.path, 'fx.config.json')], { env: keyless });
    expect(started.exitCode, started.stderr).toBe(0);
    const result = await mcpd(['chat', './weather.js', '-p', 'hi']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Your shell has ANTHROPIC_API_KEY, but the daemon \(pid \d+\) does not/);
    expect(result.stderr).toContain('mcpd stop, then run mcpd chat again');
    expect(result.stderr).toContain(join(dir.path, 'xdg/mcpd/mcpd.env'));
    // Nothing was started for a chat that could not run.
    expect((await status()).servers.some((s) => s.ephemeral)).toBe(false);
    const none = await mcpd(['chat', '-p', 'hi'], { env: keyless });
    expect(none.stderr).toContain('neither this shell nor the daemon has one');
    await mcpd(['stop']);
  });
});
