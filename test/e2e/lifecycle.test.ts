/**
 * The daemon's lifecycle through the `mcpd` binary, as a user on a busy machine meets it: a quick
 * stop, a stop while it is still starting, starts that race for one home, a daemon whose event
 * loop is stuck, and ten restarts of one server at once.
 */
import { cpSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/protocol/types.js';
import { ControlClient } from '../../src/client/control-client.js';
import { CLI, fixtureEntry, pidAlive, ROOT, tempDir, waitFor } from '../support/fixtures.js';

const homes: string[] = [];
const dirs: ReturnType<typeof tempDir>[] = [];

afterEach(async () => {
  for (const home of homes.splice(0)) await execa(process.execPath, [CLI, 'stop', '--home', home], { reject: false });
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function setup(servers: Record<string, unknown>): { home: string; configFile: string; mcpd: (args: string[]) => ReturnType<typeof execa> } {
  const dir = tempDir('mcpd-e2el-');
  dirs.push(dir);
  const home = join(dir.path, 'home');
  homes.push(home);
  const configFile = join(dir.path, 'mcp.config.json');
  writeFileSync(configFile, JSON.stringify({ servers }));
  const mcpd = (args: string[]) =>
    execa(process.execPath, [CLI, ...args, '--home', home], { reject: false, cwd: dir.path, timeout: 60_000 });
  return { home, configFile, mcpd };
}

async function status(mcpd: (args: string[]) => ReturnType<typeof execa>): Promise<DaemonStatus> {
  const result = await mcpd(['status', '--json']);
  expect(result.exitCode, String(result.stderr)).toBe(0);
  return JSON.parse(String(result.stdout)) as DaemonStatus;
}

describe('mcpd stop', () => {
  it('stops the daemon and every server it started', async () => {
    const { configFile, mcpd } = setup({ a: fixtureEntry(), b: fixtureEntry() });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const before = await status(mcpd);
    const stop = await mcpd(['stop']);
    expect(stop.exitCode, String(stop.stderr)).toBe(0);
    expect(pidAlive(before.pid)).toBe(false);
    for (const s of before.servers) expect(pidAlive(s.pid!)).toBe(false);
  });

  it('while the daemon is still starting: it exits, and nothing is left to reach', async () => {
    const { home, configFile, mcpd } = setup({
      slow: fixtureEntry({ FIXTURE_SLOW_INIT_MS: '120000' }, { timeouts: { startupMs: 200_000 } }),
    });
    const serve = execa(process.execPath, [CLI, 'serve', '--home', home, '--config', configFile], { reject: false, all: true });
    await waitFor(() => existsSync(join(home, 'mcpd.sock')), 10_000, 'the socket');
    // The slow initialize takes longer than the test may: the stop cuts it short.
    const stop = await mcpd(['stop']);
    expect(stop.exitCode, String(stop.stderr)).toBe(0);
    const exited = await serve;
    expect(exited.exitCode).toBe(0);
    // The config grows a server: nothing starts it.
    writeFileSync(configFile, JSON.stringify({ servers: { slow: fixtureEntry(), late: fixtureEntry() } }));
    expect((await mcpd(['status'])).exitCode).toBe(3);
    // And a new start is the only daemon.
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    expect((await status(mcpd)).servers.map((s) => s.state)).toEqual(['running', 'running']);
  }, 30_000);
});

describe('one daemon per home', () => {
  it('four mcpd start at once on a fresh home: one daemon, and all four exit 0', async () => {
    const { home, configFile, mcpd } = setup({ fx: fixtureEntry() });
    const starts = await Promise.all([0, 1, 2, 3].map(() => mcpd(['start', '--config', configFile])));
    for (const s of starts) expect(s.exitCode, String(s.stderr)).toBe(0);
    const { pid } = await status(mcpd);
    // Exactly one serve process for this home, and it is the one that answers. (A loser that was
    // slow to even reach the lock, on a loaded machine, may still be on its way out: it exits 4.)
    const serves = async () =>
      String((await execa('pgrep', ['-f', `serve --home ${home}`], { reject: false })).stdout)
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter(pidAlive);
    await waitFor(async () => (await serves()).length === 1, 10_000, 'the losers to exit');
    expect(await serves()).toEqual([pid]);
  }, 60_000);

  it('a daemon whose event loop is stuck keeps its home: a second one is refused, the socket stays', async () => {
    const { home, configFile, mcpd } = setup({ fx: fixtureEntry() });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const { pid } = await status(mcpd);
    const socketInode = statSync(join(home, 'mcpd.sock')).ino;
    process.kill(pid, 'SIGSTOP');
    try {
      const second = await execa(process.execPath, [CLI, 'serve', '--home', home, '--config', configFile], {
        reject: false,
        timeout: 20_000,
      });
      expect(second.exitCode).toBe(4);
      expect(second.stderr).toContain('already runs');
      expect(statSync(join(home, 'mcpd.sock')).ino).toBe(socketInode);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect((await status(mcpd)).pid).toBe(pid);
  }, 30_000);
});

describe('mcpd start on a terminal', () => {
  it.runIf(existsSync('/usr/bin/script'))(
    'says how many servers are ready as they come, then the summary',
    async () => {
      const { home, configFile, mcpd } = setup({
        a: fixtureEntry(),
        b: fixtureEntry(),
        // Never answers initialize: the start waits for it until the test stops it.
        stuck: fixtureEntry({ FIXTURE_HANG_INIT: '1' }, { timeouts: { startupMs: 120_000 } }),
      });
      // A pseudo-terminal (util-linux script), as a person's shell gives mcpd start.
      const command = [process.execPath, CLI, 'start', '--home', home, '--config', configFile].map((a) => `'${a}'`).join(' ');
      const start = execa('script', ['-qec', command, '/dev/null'], { reject: false, timeout: 60_000 });
      let seen = '';
      start.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
      await waitFor(() => seen.includes('starting servers: 2 of 3 ready') || undefined, 30_000, 'the progress line at 2 of 3');
      expect(seen).not.toContain('mcpd started');
      // Its first start ends (stopped): the daemon is ready, and mcpd start says so.
      expect((await mcpd(['server', 'stop', 'stuck'])).exitCode).toBe(0);
      const result = await start;
      expect(result.exitCode).toBe(0);
      const counts = [...seen.matchAll(/starting servers: (\d) of 3 ready/g)].map((m) => Number(m[1]));
      expect(counts).toEqual([...counts].sort());
      expect(seen.indexOf('mcpd started')).toBeGreaterThan(seen.lastIndexOf('starting servers'));
    },
    90_000,
  );
});

describe('mcpd server restart', () => {
  it('ten at once: one restart in effect, every caller exits 0 with the server running', async () => {
    // Each start takes 4 s (a slow initialize), so the ten requests come in while one restart runs,
    // however loaded the machine is.
    const { configFile, mcpd } = setup({ fx: fixtureEntry({ FIXTURE_SLOW_INIT_MS: '4000' }, { timeouts: { startupMs: 30_000 } }) });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 17));
        return mcpd(['server', 'restart', 'fx']);
      }),
    );
    for (const r of results) {
      expect(r.exitCode, String(r.stdout) + String(r.stderr)).toBe(0);
      expect(String(r.stdout)).toContain('fx: running');
    }
    const logs = await mcpd(['logs', 'fx', '-n', '500']);
    const cycles = String(logs.stdout)
      .split('\n')
      .filter((l) => l.includes('state stopping → stopped')).length;
    // Requests that arrive while a restart runs join it: fewer cycles than callers (the tight
    // bound is tested in process, in test/integration/lifecycle.test.ts).
    expect(cycles).toBeGreaterThanOrEqual(1);
    expect(cycles).toBeLessThan(10);
    expect((await status(mcpd)).servers[0]!.state).toBe('running');
  }, 60_000);
});

describe('lazy servers through the CLI', () => {
  it('learn once, go idle, wake for a call, and are listed by the next daemon without a process', async () => {
    const { configFile, mcpd } = setup({});
    const startsOf = (name: string) => join(dirs.at(-1)!.path, `${name}.starts`);
    const count = (name: string) => (existsSync(startsOf(name)) ? readFileSync(startsOf(name), 'utf8').trim().split('\n').length : 0);
    writeFileSync(
      configFile,
      JSON.stringify({
        defaults: { start: 'lazy', idleStopMs: 300 },
        servers: { a: fixtureEntry({ FIXTURE_STARTS: startsOf('a') }), b: fixtureEntry({ FIXTURE_STARTS: startsOf('b') }) },
      }),
    );
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const idle = await waitFor(
      async () => {
        const s = await status(mcpd);
        return s.servers.every((x) => x.state === 'idle') && s;
      },
      20_000,
      'both servers idle',
    );
    expect(idle.servers.map((s) => [s.name, s.pid, s.start])).toEqual([
      ['a', null, 'lazy'],
      ['b', null, 'lazy'],
    ]);
    const text = String((await mcpd(['status'])).stdout);
    expect(text).toMatch(/\(idle\) a: no process; wakes on first use, last ran \d+(ms|s) ago/);
    expect(String((await mcpd(['tools'])).stdout)).toContain('a__echo');

    const call = await mcpd(['call', 'a__echo', '{"message":"woken"}']);
    expect(call.exitCode, String(call.stderr)).toBe(0);
    expect(String(call.stdout)).toContain('woken');
    expect([count('a'), count('b')]).toEqual([2, 1]);

    expect((await mcpd(['stop'])).exitCode).toBe(0);
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const again = await status(mcpd);
    expect(again.ready).toBe(true);
    expect(again.servers.map((s) => [s.name, s.state, s.pid])).toEqual([
      ['a', 'idle', null],
      ['b', 'idle', null],
    ]);
    expect(again.toolCount).toBe(idle.toolCount);
    expect([count('a'), count('b')]).toEqual([2, 1]);
  }, 90_000);

  it('a daemon of lazy servers still wakes one after an upgrade replaced its files', async () => {
    // The daemon runs from a copy of dist/, which the "upgrade" then removes: what it loads on
    // first use it must have loaded already (a second after ready).
    const { home, configFile } = setup({});
    const dist = join(dirs.at(-1)!.path, 'dist');
    cpSync(join(ROOT, 'dist'), dist, { recursive: true });
    const copy = join(dist, 'bundle/mcpd.js');
    const mcpd = (args: string[]) =>
      execa(process.execPath, [copy, ...args, '--home', home], { reject: false, cwd: dirs.at(-1)!.path, timeout: 60_000 });
    writeFileSync(configFile, JSON.stringify({ defaults: { start: 'lazy', idleStopMs: 300 }, servers: { a: fixtureEntry() } }));
    // The first daemon learns the catalogue; the next starts from it, spawning nothing.
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    await waitFor(async () => (await status(mcpd)).servers[0]!.state === 'idle' || undefined, 20_000, 'a idle');
    expect((await mcpd(['stop'])).exitCode).toBe(0);
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    expect((await status(mcpd)).servers.map((s) => [s.name, s.state, s.pid])).toEqual([['a', 'idle', null]]);
    const control = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
    try {
      await waitFor(
        async () =>
          (await control.request('logs.read', { lines: 500 })).entries.some((e) => e.text.startsWith('loaded what the connections')) ||
          undefined,
        20_000,
        'the code loaded ahead',
      );
      rmSync(dist, { recursive: true, force: true });
      const result = await control.request('tools.call', { name: 'a__echo', arguments: { message: 'after the upgrade' } });
      expect(result.content).toEqual([{ type: 'text', text: 'after the upgrade' }]);
    } finally {
      control.close();
    }
  }, 90_000);
});
