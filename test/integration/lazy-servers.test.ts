/**
 * Lazy servers and idle stops, against real processes: a lazy server is started once to learn
 * its catalogue, stopped when idle, listed from what it reported (also by the next daemon),
 * and woken by the first request that needs it.
 */
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../src/logs/store.js';
import type { ServerState } from '../../src/protocol/types.js';
import { CatalogueMemory, FORGET_AFTER_MS } from '../../src/supervisor/memory.js';
import { StartGate } from '../../src/supervisor/start-gate.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import { ChildRegistry } from '../../src/upstream/stdio/reaper.js';
import { FIXTURE, fixtureEntry, pidAlive, resolveConfig, tempDir, waitFor } from '../support/fixtures.js';

let dir: ReturnType<typeof tempDir>;
let logs: LogStore;
let children: ChildRegistry;
const supervisors: Supervisor[] = [];

beforeEach(() => {
  dir = tempDir('mcpd-lazy-');
  logs = new LogStore({ linesPerSource: 500 });
  children = new ChildRegistry(join(dir.path, 'children.json'));
});

afterEach(async () => {
  const done = supervisors.splice(0);
  await Promise.allSettled(done.map((s) => s.stopAll()));
  // As the daemon does on stop: the catalogues being written land before the folder goes.
  await Promise.allSettled(done.map((s) => s.memory?.flushed() ?? Promise.resolve()));
  dir.cleanup();
});

const catalogues = () => join(dir.path, 'catalogues');

/** A supervisor as the daemon makes one: with the home's catalogue memory. */
function supervisor(): { supervisor: Supervisor; memory: CatalogueMemory } {
  const memory = new CatalogueMemory(catalogues(), (server, level, message) => logs.append(server, 'daemon', level, message));
  const made = new Supervisor({ logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5, new StartGate(4), memory);
  supervisors.push(made);
  return { supervisor: made, memory };
}

/** The fixture as a lazy server that records each start in a file. */
function lazyEntry(extra: Record<string, unknown> = {}, env: Record<string, string> = {}): Record<string, unknown> {
  return fixtureEntry({ FIXTURE_STARTS: join(dir.path, 'starts.log'), ...env }, { start: 'lazy', idleStopMs: 300, ...extra });
}

const starts = () => {
  const file = join(dir.path, 'starts.log');
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').length : 0;
};

function record(target: Supervisor, name: string): ServerState[] {
  const states: ServerState[] = [];
  target.on('state', (e) => {
    if (e.server === name) states.push(e.state);
  });
  return states;
}

const daemonLines = (name: string) => logs.read(name, 500).map((l) => l.text);

describe('a lazy server', () => {
  it('is started once to learn its catalogue, stops when idle, and wakes for a call', async () => {
    const { supervisor: sup, memory } = supervisor();
    const states = record(sup, 'lz');
    const changes: string[] = [];
    sup.on('lists', (_server, kind) => changes.push(kind));
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    const server = sup.get('lz');
    expect(server.state).toBe('running');
    const pid = server.status().pid!;
    const tools = server.currentLists.tools.map((t) => t.name);
    expect(tools).toContain('echo');

    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    expect(pidAlive(pid)).toBe(false);
    // Idle, it still lists what it reported, and says when it last ran.
    expect(server.currentLists.tools.map((t) => t.name)).toEqual(tools);
    const idle = server.status();
    expect(idle).toMatchObject({ state: 'idle', pid: null, start: 'lazy', restarts: 0, toolCount: tools.length });
    expect(Date.parse(idle.lastRanAt!)).toBeGreaterThan(0);
    // What it spoke when it ran, as it said who it is.
    expect(idle.protocolVersion).toBe('2025-11-25');
    expect(idle.serverInfo?.name).toBeTruthy();
    expect(sup.available().map((s) => s.name)).toEqual(['lz']);
    await memory.flushed();
    expect(readdirSync(catalogues())).toHaveLength(1);

    changes.length = 0;
    const result = await server.callTool('echo', { message: 'woken' });
    expect(result.content).toEqual([{ type: 'text', text: 'woken' }]);
    // The call went out once it answered initialize; its lists follow.
    await waitFor(() => server.state === 'running', 10_000, 'the woken server to list');
    expect(starts()).toBe(2);
    // Its real lists are the remembered ones: clients are told of no change.
    expect(changes).toEqual([]);
    expect(states).toEqual(['starting', 'running', 'stopping', 'idle', 'starting', 'running']);
    expect(server.status().restarts).toBe(0);
    expect(daemonLines('lz').some((l) => l.includes('waking: a request needs it'))).toBe(true);
  }, 60_000);

  it('is listed by the next daemon from its remembered catalogue without being started', async () => {
    const first = supervisor();
    await first.supervisor.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    const learned = first.supervisor.get('lz').currentLists.tools.map((t) => t.name);
    await waitFor(() => first.supervisor.get('lz').state === 'idle', 10_000, 'the idle stop');
    await first.supervisor.stopAll();
    await first.memory.flushed();
    expect(starts()).toBe(1);

    const second = supervisor();
    await second.supervisor.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    const server = second.supervisor.get('lz');
    expect(server.status()).toMatchObject({ state: 'idle', pid: null, toolCount: learned.length });
    expect(server.currentLists.tools.map((t) => t.name)).toEqual(learned);
    expect(server.capabilities()?.tools).toBeDefined();
    expect(server.status().lastRanAt).not.toBeNull();
    expect(server.status().protocolVersion).toBe('2025-11-25');
    expect(starts()).toBe(1);
    // A prompt and a resource wake it as a call does.
    const prompt = await server.getPrompt('secret_prompt', undefined);
    expect(prompt.messages).toHaveLength(1);
    expect(starts()).toBe(2);
  }, 60_000);

  it('relearns when its remembered file is torn, of another version, or of another entry', async () => {
    const first = supervisor();
    await first.supervisor.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    await first.supervisor.stopAll();
    await first.memory.flushed();
    const [name] = readdirSync(catalogues());
    const file = join(catalogues(), name!);
    const whole = readFileSync(file, 'utf8');
    expect(starts()).toBe(1);

    const cases: [string, () => void, Record<string, unknown>, string][] = [
      ['torn', () => writeFileSync(file, whole.slice(0, whole.length / 2)), {}, 'not whole JSON (torn)'],
      ['version', () => writeFileSync(file, JSON.stringify({ ...JSON.parse(whole), mcpd: '0.0.1' })), {}, 'another version'],
      ['entry', () => writeFileSync(file, whole), { args: [FIXTURE, '--changed'] }, 'another command'],
      ['lists', () => writeFileSync(file, JSON.stringify({ ...JSON.parse(whole), lists: { tools: [{ name: 3 }] } })), {}, 'not whole'],
    ];
    let expected = 1;
    for (const [label, spoil, change, said] of cases) {
      spoil();
      const next = supervisor();
      await next.supervisor.startAll(resolveConfig({ servers: { lz: lazyEntry(change) } }));
      expected += 1;
      expect([label, next.supervisor.get('lz').state, starts()]).toEqual([label, 'running', expected]);
      expect(daemonLines('lz').some((l) => l.includes('ignored its remembered catalogue') && l.includes(said))).toBe(true);
      await next.supervisor.stopAll();
      await next.memory.flushed();
    }
  }, 90_000);

  it('a call that arrives while it is being stopped for idleness waits, and wakes it', async () => {
    const { supervisor: sup } = supervisor();
    const states = record(sup, 'lz');
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    const server = sup.get('lz');
    let call: Promise<unknown> | undefined;
    sup.on('state', (e) => {
      if (e.server === 'lz' && e.state === 'stopping' && !call) call = server.callTool('echo', { message: 'during the stop' });
    });
    await waitFor(() => call, 10_000, 'the idle stop to begin');
    await expect(call).resolves.toMatchObject({ content: [{ type: 'text', text: 'during the stop' }] });
    await waitFor(() => server.state === 'running', 10_000, 'the woken server to list');
    expect(states.slice(0, 6)).toEqual(['starting', 'running', 'stopping', 'idle', 'starting', 'running']);
  }, 60_000);

  it('answers a waking call once it answered initialize, before its lists; a second call meanwhile waits too', async () => {
    const { supervisor: sup } = supervisor();
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry({}, { FIXTURE_SLOW_LIST_MS: '1500' }) } }));
    const server = sup.get('lz');
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    const order: string[] = [];
    sup.on('state', (e) => {
      if (e.server === 'lz') order.push(e.state);
    });
    const first = server.callTool('echo', { message: 'one' }).then((r) => {
      order.push('answered one');
      return r;
    });
    // Asked while the first has it starting: it waits for the same start, never "is starting".
    await waitFor(() => server.state === 'starting' || undefined, 10_000, 'the wake to begin');
    const second = server.callTool('echo', { message: 'two' }).then((r) => {
      order.push('answered two');
      return r;
    });
    await expect(first).resolves.toMatchObject({ content: [{ type: 'text', text: 'one' }] });
    await expect(second).resolves.toMatchObject({ content: [{ type: 'text', text: 'two' }] });
    await waitFor(() => server.state === 'running', 10_000, 'its lists');
    expect(order.filter((o) => o !== 'answered two')).toEqual(['starting', 'answered one', 'running']);
    expect(order.indexOf('answered two')).toBeLessThan(order.indexOf('running'));
    expect(server.status().restarts).toBe(0);
  }, 60_000);

  it('sends the waking call to the server before the lists it asks again', async () => {
    const requests = join(dir.path, 'requests.log');
    const { supervisor: sup } = supervisor();
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry({}, { FIXTURE_REQUESTS: requests }) } }));
    const server = sup.get('lz');
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    rmSync(requests);
    await expect(server.callTool('echo', { message: 'wake' })).resolves.toMatchObject({ content: [{ type: 'text', text: 'wake' }] });
    await waitFor(() => server.state === 'running', 10_000, 'its lists');
    // What the woken server read: the handshake, the call, then the lists (a list can cost a
    // server more than the call it would otherwise hold up).
    const read = readFileSync(requests, 'utf8').trim().split('\n');
    const call = read.indexOf('tools/call echo');
    expect(call).toBeGreaterThan(read.indexOf('initialize'));
    expect(read.slice(call + 1)).toEqual(expect.arrayContaining(['tools/list', 'resources/list', 'prompts/list']));
    expect(read.slice(0, call).filter((m) => m.endsWith('/list'))).toEqual([]);
  }, 60_000);

  it('that fails to wake fails the request with its own error, then follows the restart policy', async () => {
    const { supervisor: sup } = supervisor();
    const marker = join(dir.path, 'broken');
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry({}, { FIXTURE_EXIT_IF_FILE: marker }) } }));
    const server = sup.get('lz');
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    writeFileSync(marker, '');
    const failed = await server.callTool('echo', { message: 'x' }).catch((error: unknown) => error as Error);
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toContain('exists, exiting on purpose');
    expect(['backoff', 'starting']).toContain(server.state);
    rmSync(marker);
    // The restart policy's retry brings it up; the crash counts as a restart, the idle stops not.
    await waitFor(() => server.state === 'running', 10_000, 'the retry');
    expect(server.status().restarts).toBe(1);
  }, 60_000);

  it('is not stopped while a call runs or a subscription holds it', async () => {
    const { supervisor: sup } = supervisor();
    const states = record(sup, 'lz');
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry({ idleStopMs: 100 }) } }));
    const server = sup.get('lz');
    // A call three times the idle time: running throughout.
    await server.callTool('slow', { ms: 600 });
    expect(states).toEqual(['starting', 'running']);
    const release = server.hold();
    await server.callTool('slow', { ms: 400 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(states).toEqual(['starting', 'running']);
    release();
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop after the hold');
    expect(server.status().restarts).toBe(0);
  }, 60_000);

  it('does not wake to be told a log level', async () => {
    const { supervisor: sup } = supervisor();
    await sup.startAll(resolveConfig({ servers: { lz: lazyEntry() } }));
    const server = sup.get('lz');
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    await expect(server.forward({ method: 'logging/setLevel', params: { level: 'error' } })).resolves.toEqual({});
    expect(server.state).toBe('idle');
    expect(starts()).toBe(1);
  }, 60_000);
});

describe('an eager server with idleStopMs', () => {
  it('starts with the daemon, goes idle, and wakes on demand', async () => {
    const { supervisor: sup } = supervisor();
    const states = record(sup, 'ez');
    await sup.startAll(resolveConfig({ servers: { ez: fixtureEntry({}, { idleStopMs: 200 }) } }));
    const server = sup.get('ez');
    expect(server.status()).toMatchObject({ state: 'running', start: 'eager' });
    await waitFor(() => server.state === 'idle', 10_000, 'the idle stop');
    const woken = states.length;
    await expect(server.readResource('fixture://secret')).resolves.toMatchObject({ contents: [{ uri: 'fixture://secret' }] });
    // Answered once the server answered initialize (before its lists, which then make it run).
    await waitFor(() => states.slice(woken).includes('running'), 10_000, 'the woken server to list');
    expect(states.slice(woken, woken + 2)).toEqual(['starting', 'running']);
    // A manual stop of an idle server stops it: its tools go, requests fail.
    await waitFor(() => server.state === 'idle', 10_000, 'the second idle stop');
    await server.stop();
    expect(server.status()).toMatchObject({ state: 'stopped', toolCount: 0 });
    await expect(server.callTool('echo', { message: 'x' })).rejects.toThrow(/is stopped/);
  }, 60_000);
});

describe('remembered catalogues of servers no longer configured', () => {
  it('are removed once no daemon has written them for 30 days; a configured or recent one stays', async () => {
    const { memory } = supervisor();
    const config = resolveConfig({ servers: { kept: lazyEntry(), gone: lazyEntry(), recent: lazyEntry() } });
    const remembered = {
      lists: { tools: [{ name: 'echo', inputSchema: { type: 'object' as const } }], resources: [], prompts: [] },
      capabilities: { tools: {} },
    };
    for (const name of ['kept', 'gone', 'recent']) await memory.keep(config.servers[name]!, remembered);
    writeFileSync(join(catalogues(), 'notes.txt'), 'not ours');
    const files = () => readdirSync(catalogues()).sort();
    const before = files();
    expect(before).toHaveLength(4);
    // Every file but the recent one last written 31 days ago.
    const old = (Date.now() - FORGET_AFTER_MS - 24 * 60 * 60 * 1000) / 1000;
    const recentFile = before
      .filter((f) => f !== 'notes.txt')
      .find((f) => readFileSync(join(catalogues(), f), 'utf8').includes('"server":"recent"'))!;
    for (const f of before) if (f !== recentFile) utimesSync(join(catalogues(), f), old, old);

    // The config now names only "kept".
    expect(await memory.forgetUnused(['kept'])).toBe(1);
    expect(memory.recall(config.servers['kept']!)?.lists.tools.map((t) => t.name)).toEqual(['echo']);
    expect(memory.recall(config.servers['gone']!)).toBeUndefined();
    expect(memory.recall(config.servers['recent']!)).toBeDefined();
    expect(files()).toContain('notes.txt');
    expect(files()).toHaveLength(3);
    // Nothing more to forget; and a home without the folder is no error.
    expect(await memory.forgetUnused(['kept'])).toBe(0);
    rmSync(catalogues(), { recursive: true, force: true });
    expect(await memory.forgetUnused([])).toBe(0);
  });
});
