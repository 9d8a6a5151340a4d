/**
 * No process escapes (issue 20, items 1–3): what a server starts ends with it, even a grandchild
 * that left the process group with setsid(); a daemon killed at any instant, even while it was
 * starting servers, leaves nothing the next start does not find; and a server that cannot be
 * recorded is not left running. Real processes throughout, counted by the marks they carry.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { findMarked, homeMark } from '../../src/upstream/stdio/marks.js';
import { procStat } from '../../src/util/proc.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { CLI, fixtureEntry, pidAlive, tempDir, waitFor } from '../support/fixtures.js';

const linux = process.platform === 'linux';

/** The live processes any daemon of this home started. */
function markedOf(home: string): number[] {
  const mark = homeMark(home);
  return findMarked((marks) => marks.home === mark);
}

/** SIGKILLs every live process a daemon of this home started (a failed test's leftovers). */
function killMarked(home: string): void {
  for (const pid of markedOf(home)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function pidsIn(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function daemonWith(servers: Record<string, unknown>): Promise<TestDaemon> {
  const t = await startDaemon({ servers });
  cleanups.push(() => t.stop());
  return t;
}

describe.runIf(linux)('a grandchild that calls setsid()', () => {
  it('ends with its server: on stop, restart and reload', async () => {
    const dir = tempDir('mcpd-esc-');
    cleanups.push(dir.cleanup);
    const born = join(dir.path, 'born');
    const t = await daemonWith({ fx: fixtureEntry({ FIXTURE_SETSID_CHILD: born }) });
    const client = await t.connect();
    const first = await waitFor(() => pidsIn(born)[0], 10_000, 'the grandchild');
    const server = (await client.request('servers.list', {})).servers[0]!;
    // Out of the server's process group, as a daemonizing helper is.
    expect(procStat(first)?.[2]).not.toBe(String(server.pid));
    expect(pidAlive(first)).toBe(true);

    await client.request('servers.stop', { name: 'fx' });
    expect(pidAlive(first)).toBe(false);

    await client.request('servers.start', { name: 'fx' });
    const second = await waitFor(() => pidsIn(born)[1], 10_000, 'the second grandchild');
    await client.request('servers.restart', { name: 'fx' });
    expect(pidAlive(second)).toBe(false);
    const third = await waitFor(() => pidsIn(born)[2], 10_000, 'the third grandchild');

    // A reload that changes the server replaces it: its grandchild goes with it.
    t.writeConfig({ servers: { fx: fixtureEntry({ FIXTURE_SETSID_CHILD: born, CHANGED: '1' }) } });
    await client.request('config.reload', {});
    expect(pidAlive(third)).toBe(false);
    await waitFor(() => pidsIn(born)[3], 10_000, 'the fourth grandchild');
    await t.stop();
    expect(markedOf(t.home)).toEqual([]);
  }, 60_000);
});

describe.runIf(linux)('a daemon killed outright (kill -9)', () => {
  const serve = (home: string, configFile: string): ResultPromise =>
    // No forced SIGKILL after a SIGTERM: the daemon's own stop (5 s for servers that ignore it) is what is tested.
    execa(process.execPath, [CLI, 'serve', '--home', home, '--config', configFile], {
      reject: false,
      all: true,
      forceKillAfterDelay: false,
    });

  it('leaves grandchildren the next daemon reaps, setsid or not', async () => {
    const dir = tempDir('mcpd-esc-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    const born = join(dir.path, 'born');
    // Whatever this test fails on, nothing it started outlives it.
    cleanups.push(() => killMarked(home));
    const configFile = join(dir.path, 'mcp.config.json');
    // fx and plain end by themselves when the daemon's end of their stdin goes; the setsid
    // grandchild and a server that ignores stdin closing (and SIGTERM) do not.
    writeFileSync(
      configFile,
      JSON.stringify({
        servers: {
          fx: fixtureEntry({ FIXTURE_SETSID_CHILD: born }),
          plain: fixtureEntry(),
          stubborn: fixtureEntry({ FIXTURE_IGNORE_SIGTERM: '1' }),
        },
      }),
    );
    const first = serve(home, configFile);
    cleanups.push(() => void first.kill('SIGKILL'));
    const grandchild = await waitFor(() => pidsIn(born)[0], 15_000, 'the grandchild');
    await waitFor(() => markedOf(home).length >= 4 || undefined, 15_000, 'three servers and the grandchild');
    // Running, not just spawned: on a loaded machine a server killed before its own code ran
    // (stubborn's "ignore stdin closing") would end with its daemon, and prove nothing.
    await waitFor(
      async () => {
        const status = await execa(process.execPath, [CLI, 'status', '--json', '--home', home], { reject: false });
        const servers = status.exitCode === 0 ? (JSON.parse(status.stdout) as { servers: { state: string }[] }).servers : [];
        return servers.length === 3 && servers.every((server) => server.state === 'running') ? true : undefined;
      },
      30_000,
      'the three servers running',
    );
    const before = new Set(markedOf(home));
    first.kill('SIGKILL');
    await first;
    // Orphaned: they outlive the daemon that started them.
    expect(pidAlive(grandchild)).toBe(true);
    const leftovers = markedOf(home);
    expect(leftovers).toContain(grandchild);
    expect(leftovers.filter((pid) => before.has(pid) && pid !== grandchild).length).toBeGreaterThanOrEqual(1); // stubborn

    const again = serve(home, configFile);
    cleanups.push(() => void again.kill('SIGKILL'));
    await waitFor(() => pidsIn(born)[1], 15_000, 'the next daemon to start its servers');
    for (const pid of leftovers) expect(pidAlive(pid)).toBe(false);
    again.kill('SIGTERM');
    await again;
    expect(markedOf(home)).toEqual([]);
  }, 60_000);

  it('while it is starting twenty servers, at whatever point: the next start finds every one', async () => {
    const dir = tempDir('mcpd-esc-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    const configFile = join(dir.path, 'mcp.config.json');
    // Servers that outlive their daemon (they ignore stdin closing and SIGTERM): only a reaper ends them.
    // Whatever this test fails on, nothing it started outlives it.
    cleanups.push(() => killMarked(home));
    const servers = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, fixtureEntry({ FIXTURE_IGNORE_SIGTERM: '1' })]));
    writeFileSync(configFile, JSON.stringify({ servers }));
    // Killed when 1, then 8, then 15 of its servers have been spawned: early, midway, late.
    for (const spawned of [1, 8, 15]) {
      const daemon = serve(home, configFile);
      cleanups.push(() => void daemon.kill('SIGKILL'));
      await waitFor(() => markedOf(home).length >= spawned || undefined, 60_000, `${spawned} servers spawned`);
      daemon.kill('SIGKILL');
      await daemon;
    }
    expect(markedOf(home).length).toBeGreaterThan(0);
    const last = serve(home, configFile);
    cleanups.push(() => void last.kill('SIGKILL'));
    const socket = join(home, 'mcpd.sock');
    // Ready: twenty servers, each one process (the fixture starts none of its own), and no more.
    await waitFor(
      async () => {
        const status = await execa(process.execPath, [CLI, 'status', '--json', '--home', home], { reject: false });
        return status.exitCode === 0 && (JSON.parse(String(status.stdout)) as { ready: boolean }).ready;
      },
      // Twenty processes starting at once on a loaded 2-core machine take their time.
      90_000,
      `the daemon on ${socket} to be ready`,
    );
    expect(markedOf(home)).toHaveLength(20);
    last.kill('SIGTERM');
    await last;
    expect(markedOf(home)).toEqual([]);
  }, 240_000);
});

describe.runIf(linux)('a server that cannot be recorded', () => {
  it('is not left running (children.json is a folder): a clear error naming the file', async () => {
    const t = await startDaemon(
      { servers: { fx: fixtureEntry() } },
      { beforeStart: (dir) => mkdirSync(join(dir, 'home', 'children.json'), { recursive: true }) },
    );
    cleanups.push(() => t.stop());
    const client = await t.connect();
    const fx = (await client.request('servers.list', {})).servers[0]!;
    expect(fx.state).not.toBe('running');
    expect(fx.lastError).toMatchObject({ code: 'MCPD_HOME_UNWRITABLE', message: expect.stringContaining(join(t.home, 'children.json')) });
    // Whatever the retries: none of its processes lives on.
    await waitFor(async () => (await client.request('servers.list', {})).servers[0]!.restarts >= 2 || undefined, 15_000, 'two retries');
    // A retry may be between its spawn and the failed record (killed right after): wait that out.
    // A process left running would stay, and fail this.
    await waitFor(() => markedOf(t.home).length === 0 || undefined, 15_000, 'no process of fx left');
    await t.stop();
    expect(markedOf(t.home)).toEqual([]);
  }, 60_000);
});
