/**
 * The supervisor against real processes: our fixture server, misbehaving on purpose.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/config/types.js';
import { isMcpdError } from '../../src/errors.js';
import { LogStore } from '../../src/logs/store.js';
import type { ServerState } from '../../src/protocol/types.js';
import { ManagedServer } from '../../src/supervisor/managed-server.js';
import { StartGate } from '../../src/supervisor/start-gate.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { groupAlive } from '../../src/upstream/stdio/process.js';
import { ChildRegistry } from '../../src/upstream/stdio/reaper.js';
import { fixtureEntry, pidAlive, resolveConfig, ROOT, serverConfig, tempDir, waitFor } from '../support/fixtures.js';

let dir: ReturnType<typeof tempDir>;
let logs: LogStore;
let children: ChildRegistry;
const started: ManagedServer[] = [];

beforeEach(() => {
  dir = tempDir('mcpd-sup-');
  logs = new LogStore({ linesPerSource: 200 });
  children = new ChildRegistry(join(dir.path, 'children.json'));
});

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((s) => s.stop()));
  dir.cleanup();
});

function managed(config: ServerConfig): { server: ManagedServer; states: ServerState[] } {
  const server = new ManagedServer(config, { logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5);
  const states: ServerState[] = [];
  server.on('state', (e) => states.push(e.state));
  started.push(server);
  return { server, states };
}

describe('ManagedServer with a well-behaved server', () => {
  it('starts, lists tools, calls, and stops the process', async () => {
    const { server, states } = managed(serverConfig('fx', fixtureEntry()));
    await server.start();
    expect(server.state).toBe('running');
    expect(server.currentLists.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'big', 'slow', 'die']));
    const result = await server.callTool('echo', { message: 'hello' });
    expect(result.content).toEqual([{ type: 'text', text: 'hello' }]);
    const pid = server.status().pid!;
    expect(pidAlive(pid)).toBe(true);
    await server.stop();
    expect(states).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(pidAlive(pid)).toBe(false);
  });

  it('passes a 16 MiB result through (no limit below it)', async () => {
    const { server } = managed(serverConfig('fx', fixtureEntry()));
    await server.start();
    const result = await server.callTool('big', { bytes: 16 * 1024 * 1024 });
    expect((result.content[0] as { text: string }).text.length).toBe(16 * 1024 * 1024);
  });

  it('refreshes only its tools on list_changed', async () => {
    const { server } = managed(serverConfig('fx', fixtureEntry()));
    await server.start();
    const changed = new Promise<string[]>((resolve) =>
      server.once('lists', (_s, kind, lists) => kind === 'tools' && resolve(lists.tools.map((t) => t.name))),
    );
    await server.callTool('add_tool', { name: 'brand_new' });
    expect(await changed).toContain('brand_new');
  });

  it('at 2026-07-28 too: a list change comes on the listen stream, and the list is asked afresh', async () => {
    const both = { command: process.execPath, args: [join(ROOT, 'test/fixtures/conformance-server.mjs')] };
    const { server } = managed(serverConfig('both', both));
    await server.start();
    expect(server.status().protocolVersion).toBe('2026-07-28');
    const changed = new Promise<string>((resolve) => server.once('lists', (_s, kind) => resolve(kind)));
    await server.callTool('test_trigger_tool_change', {});
    expect(await changed).toBe('tools');
  });

  it("answers the server's roots/list from the config (paths as file:// URIs)", async () => {
    const config = resolveConfig(
      { servers: { fx: fixtureEntry({}, { roots: ['.', { uri: 'file:///srv/data', name: 'data' }] }) } },
      dir.path,
    ).servers['fx']!;
    const { server } = managed(config);
    await server.start();
    const result = await server.callTool('roots', {});
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual([
      { uri: pathToFileURL(dir.path).href },
      { uri: 'file:///srv/data', name: 'data' },
    ]);
  });

  it('skips and counts non-JSON lines on stdout', async () => {
    const { server } = managed(serverConfig('fx', fixtureEntry({ FIXTURE_GARBAGE_STDOUT: '7' })));
    await server.start();
    expect(server.state).toBe('running');
    expect(server.status().skippedStdoutLines).toBe(7);
    expect((await server.callTool('echo', { message: 'still fine' })).content).toHaveLength(1);
  });

  it('keeps stderr in a bounded ring when a server floods it', async () => {
    const { server } = managed(serverConfig('fx', fixtureEntry({ FIXTURE_FLOOD_STDERR: '50000' })));
    await server.start();
    await waitFor(() => logs.read('fx', 1000).some((e) => e.text === 'flood line 49999'), 10_000, 'the last flood line');
    const kept = logs.read('fx', 100_000);
    expect(kept.length).toBe(200);
    expect(server.state).toBe('running');
  });
});

describe('ManagedServer failures', () => {
  it('fails at once, without retries, when the command does not exist', async () => {
    const { server, states } = managed(serverConfig('ghost', { command: 'definitely-not-a-command-xyz' }));
    await server.start();
    expect(server.state).toBe('failed');
    expect(states).toEqual(['starting', 'failed']);
    expect(server.status().lastError).toMatchObject({
      code: 'MCPD_SERVER_COMMAND_NOT_FOUND',
      message: expect.stringContaining('not found on PATH'),
    });
  });

  it('fails at once when the command is not executable', async () => {
    const { server } = managed(serverConfig('noexec', { command: './package.json' }));
    await server.start();
    expect(server.status().lastError).toMatchObject({
      code: 'MCPD_SERVER_COMMAND_NOT_FOUND',
      message: expect.stringContaining('not executable'),
    });
  });

  it('goes to failed after a crash loop, with the reason and the stderr tail', async () => {
    const { server, states } = managed(
      serverConfig(
        'crashy',
        fixtureEntry({ FIXTURE_EXIT_AT_START: '1' }, { restart: { maxRestarts: 3, windowMs: 60_000, initialDelayMs: 20, maxDelayMs: 40 } }),
      ),
    );
    await server.start();
    await waitFor(() => server.state === 'failed', 15_000, 'failed');
    expect(states.filter((s) => s === 'starting')).toHaveLength(4);
    expect(states.filter((s) => s === 'backoff')).toHaveLength(3);
    const error = server.status().lastError!;
    expect(error.code).toBe('MCPD_SERVER_CRASH_LOOP');
    expect(error.message).toContain('failed 4 times');
    expect(error.message).toContain('exiting at start on purpose');
    expect(error.message).toContain('mcpd server restart crashy');
    // A manual restart clears failed (and fails the same way again, one attempt at a time).
    const before = states.length;
    void server.start();
    await waitFor(() => states.slice(before).includes('starting'), 5_000, 'a new start');
  });

  it('restarts a server that crashes while running, with backoff', async () => {
    const { server, states } = managed(serverConfig('flaky', fixtureEntry({ FIXTURE_CRASH_AFTER_MS: '300' })));
    await server.start();
    const firstPid = server.status().pid;
    await waitFor(() => states.filter((s) => s === 'running').length >= 2, 10_000, 'a second running');
    expect(states.slice(0, 5)).toEqual(['starting', 'running', 'backoff', 'starting', 'running']);
    expect(server.status().restarts).toBeGreaterThanOrEqual(1);
    expect(server.status().pid).not.toBe(firstPid);
  });

  it('times out a server that hangs on initialize, and kills it', async () => {
    const { server } = managed(
      serverConfig('hang', fixtureEntry({ FIXTURE_HANG_INIT: '1' }, { timeouts: { startupMs: 500 }, restart: { maxRestarts: 0 } })),
    );
    await server.start();
    expect(server.state).toBe('failed');
    expect(server.status().lastError!.message).toContain('did not finish starting (initialize and listing) within 500 ms');
    expect(server.status().lastError!.code).toBe('MCPD_SERVER_CRASH_LOOP');
  });

  it('restarts a server that stops answering pings (hung)', async () => {
    const config = serverConfig('hung', fixtureEntry({}, { timeouts: { pingIntervalMs: 150, pingTimeoutMs: 100 } }));
    const { server, states } = managed(config);
    await server.start();
    process.kill(server.status().pid!, 'SIGUSR2'); // it stops reading stdin
    await waitFor(() => states.includes('backoff'), 10_000, 'backoff after missed pings');
    expect(logs.read('hung', 200).some((e) => e.text.includes('missed 2 health pings'))).toBe(true);
  });

  it('fails in-flight calls within a second when the server dies, without replaying them', async () => {
    const { server } = managed(serverConfig('dies', fixtureEntry()));
    await server.start();
    // Not a timeout (callMs is 60 s, past the test's own): the death fails it.
    const error = await server.callTool('die', {}).catch((e: unknown) => e);
    expect(isMcpdError(error, 'MCPD_CALL_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/went away while the call to tool "die" was in flight/);
  });

  it('times out a call and sends notifications/cancelled to the server', async () => {
    const events = join(dir.path, 'events.log');
    const { server } = managed(serverConfig('slow', fixtureEntry({ FIXTURE_EVENTS: events })));
    await server.start();
    const error = await server.callTool('slow', { ms: 5_000 }, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isMcpdError(error, 'MCPD_CALL_TIMEOUT')).toBe(true);
    await waitFor(
      () => existsSync(events) && readFileSync(events, 'utf8').includes('cancelled slow'),
      5_000,
      'the cancellation at the server',
    );
  });

  it('lets progress notifications extend a call past its timeout', async () => {
    const { server } = managed(serverConfig('busy', fixtureEntry()));
    await server.start();
    const progress: number[] = [];
    const result = await server.callTool(
      'progress',
      { ms: 1_200, every: 100 },
      { timeoutMs: 400, onProgress: (p) => progress.push(p.progress) },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'worked 1200 ms' }]);
    expect(progress.length).toBeGreaterThanOrEqual(10);
    // Without progress the same timeout ends the call.
    const error = await server.callTool('slow', { ms: 1_200 }, { timeoutMs: 400 }).catch((e: unknown) => e);
    expect(isMcpdError(error, 'MCPD_CALL_TIMEOUT')).toBe(true);
  });

  it('cancels a call through its AbortSignal (MCP cancel sent)', async () => {
    const events = join(dir.path, 'events.log');
    const { server } = managed(serverConfig('slow', fixtureEntry({ FIXTURE_EVENTS: events })));
    await server.start();
    const abort = new AbortController();
    const pending = server.callTool('slow', { ms: 5_000 }, { signal: abort.signal }).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 100);
    expect(isMcpdError(await pending, 'MCPD_CALL_CANCELLED')).toBe(true);
    await waitFor(
      () => existsSync(events) && readFileSync(events, 'utf8').includes('cancelled slow'),
      5_000,
      'the cancellation at the server',
    );
  });
});

describe('ManagedServer stop', () => {
  it('escalates to SIGKILL for a server that ignores SIGTERM and stdin closing', async () => {
    const { server } = managed(serverConfig('stubborn', fixtureEntry({ FIXTURE_IGNORE_SIGTERM: '1' })));
    await server.start();
    const pid = server.status().pid!;
    await server.stop();
    expect(pidAlive(pid)).toBe(false);
    // In order: stdin closed (it stayed), then SIGTERM (it stayed), and only SIGKILL ended it.
    const said = logs.read('stubborn', 100).map((e) => e.text);
    expect(said.filter((t) => t.startsWith('fixture: '))).toEqual(['fixture: stdin closed, staying', 'fixture: ignoring SIGTERM']);
  }, 20_000);

  it('leaves no grandchild behind', async () => {
    const pidFile = join(dir.path, 'grandchild.pid');
    const { server } = managed(serverConfig('parent', fixtureEntry({ FIXTURE_GRANDCHILD: pidFile })));
    await server.start();
    const grandchild = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8'), 5_000, 'grandchild pid'));
    const pgid = server.status().pid!;
    expect(pidAlive(grandchild)).toBe(true);
    await server.stop();
    await waitFor(() => !pidAlive(grandchild), 5_000, 'grandchild gone');
    expect(groupAlive(pgid)).toBe(false);
  }, 20_000);

  it('leaves no grandchild behind for a server started through sh -c', async () => {
    const pidFile = join(dir.path, 'grandchild.pid');
    const config = serverConfig('viash', {
      command: 'sh',
      args: ['-c', `"${process.execPath}" "${join(import.meta.dirname, '../fixtures/mcp-fixture.mjs')}"`],
      env: { FIXTURE_GRANDCHILD: pidFile },
    });
    const { server } = managed(config);
    await server.start();
    expect(server.state).toBe('running');
    const grandchild = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8'), 5_000, 'grandchild pid'));
    await server.stop();
    await waitFor(() => !pidAlive(grandchild), 5_000, 'grandchild gone');
  }, 20_000);

  it('leaves nothing behind for a server started through npx', async () => {
    // npx finds the locally installed bin: nothing is downloaded.
    const config = serverConfig('vianpx', {
      command: 'npx',
      args: ['--no-install', 'mcp-server-memory'],
      env: { MEMORY_FILE_PATH: join(dir.path, 'm.jsonl') },
      timeouts: { startupMs: 20_000 },
    });
    const { server } = managed(config);
    await server.start();
    expect(server.state).toBe('running');
    expect(server.currentLists.tools.map((t) => t.name)).toContain('read_graph');
    const pgid = server.status().pid!;
    await server.stop();
    expect(groupAlive(pgid)).toBe(false);
  }, 30_000);

  it('stop() called twice returns the same promise', async () => {
    const { server } = managed(serverConfig('twice', fixtureEntry()));
    await server.start();
    const a = server.stop();
    const b = server.stop();
    expect(a).toBe(b);
    await a;
    expect(server.state).toBe('stopped');
  });

  it('can be stopped while in backoff', async () => {
    const { server } = managed(
      serverConfig('b', fixtureEntry({ FIXTURE_EXIT_AT_START: '1' }, { restart: { initialDelayMs: 10_000, maxDelayMs: 10_000 } })),
    );
    await server.start();
    expect(server.state).toBe('backoff');
    expect(server.status().nextRetryMs).toBeGreaterThan(0);
    expect(server.status().nextRetryMs).toBeLessThanOrEqual(10_000);
    await server.stop();
    expect(server.state).toBe('stopped');
  });
});

describe('start-up, bounded', () => {
  it('starts at most N servers at once, the rest in order, and none times out for having waited', async () => {
    const supervisor = new Supervisor({ logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5, new StartGate(2));
    // Eight slow starters, two at a time: the last waits three rounds of at least 2 s each, more
    // than its startupMs (5 s), which its own start (boot, then 2 s) stays within even when the
    // machine is loaded; a wait that counted would time it out.
    const slow = fixtureEntry({ FIXTURE_SLOW_INIT_MS: '2000' }, { timeouts: { startupMs: 5_000 } });
    const config = resolveConfig({ servers: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`s${i}`, slow])) });
    let peak = 0;
    const sampler = setInterval(() => {
      // Coming up: spawned, initialize not yet answered (the gate's span; lists follow outside it).
      const spawned = supervisor.list().filter((s) => {
        const status = s.status();
        return s.state === 'starting' && status.pid !== null && status.serverInfo === null;
      }).length;
      peak = Math.max(peak, spawned);
    }, 10);
    try {
      await supervisor.startAll(config);
    } finally {
      clearInterval(sampler);
    }
    const statuses = supervisor.list().map((s) => s.status());
    expect(statuses.map((s) => [s.name, s.state, s.restarts])).toEqual(Array.from({ length: 8 }, (_, i) => [`s${i}`, 'running', 0]));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(2);
    await supervisor.stopAll();
  }, 60_000);

  it('records every server spawned in one go in children.json (written once for them), and forgets them on stop', async () => {
    const supervisor = new Supervisor({ logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5, new StartGate(4));
    const config = resolveConfig({ servers: Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`r${i}`, fixtureEntry()])) });
    await supervisor.startAll(config);
    const records = JSON.parse(readFileSync(join(dir.path, 'children.json'), 'utf8')) as { pgid: number; server: string }[];
    const pids = supervisor.list().map((s) => [s.name, s.status().pid]);
    expect(records.map((r) => [r.server, r.pgid]).sort()).toEqual(pids.sort());
    await supervisor.stopAll();
    expect(JSON.parse(readFileSync(join(dir.path, 'children.json'), 'utf8'))).toEqual([]);
  }, 60_000);

  it('frees the slot once initialize is answered: the next spawns while the first still lists', async () => {
    const supervisor = new Supervisor({ logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5, new StartGate(1));
    const config = resolveConfig({
      servers: { listing: fixtureEntry({ FIXTURE_SLOW_LIST_MS: '1500' }), next: fixtureEntry() },
    });
    const running: string[] = [];
    supervisor.on('state', (event) => {
      if (event.state === 'running') running.push(event.server);
    });
    await supervisor.startAll(config);
    // With the slot held through the lists, "next" could only spawn after "listing" was running.
    expect(running).toEqual(['next', 'listing']);
    await supervisor.stopAll();
  }, 60_000);

  it('a server stopped while it waits in the queue leaves it, and never spawns', async () => {
    const gate = new StartGate(1);
    const supervisor = new Supervisor({ logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5, gate);
    const config = resolveConfig({
      servers: { first: fixtureEntry({ FIXTURE_SLOW_INIT_MS: '800' }), second: fixtureEntry() },
    });
    const all = supervisor.startAll(config);
    await waitFor(() => gate.queued === 1 || undefined, 10_000, 'the second to queue');
    await supervisor.get('second').stop();
    expect(supervisor.get('second').status()).toMatchObject({ state: 'stopped', pid: null });
    expect(gate.queued).toBe(0);
    await all;
    expect(supervisor.get('first').state).toBe('running');
    // Started again by hand, it takes the slot the first freed.
    await supervisor.get('second').start();
    expect(supervisor.get('second').state).toBe('running');
    await supervisor.stopAll();
  }, 60_000);
});
