/**
 * The edges of a server's life, with real processes: actions that race each other, retries that
 * must wait for the previous process, connections that break while the process lives, calls in
 * flight when a server is declared hung, start-up deadlines, and a server that stops reading.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerConfig } from '../../src/config/types.js';
import { isMcpdError } from '../../src/errors.js';
import { LogStore } from '../../src/logs/store.js';
import type { ServerState, ServerStateEvent } from '../../src/protocol/types.js';
import { ManagedServer } from '../../src/supervisor/managed-server.js';
import { ChildRegistry } from '../../src/upstream/stdio/reaper.js';
import { fixtureEntry, pidAlive, serverConfig, tempDir, waitFor } from '../support/fixtures.js';

let dir: ReturnType<typeof tempDir>;
let logs: LogStore;
let children: ChildRegistry;
const started: ManagedServer[] = [];

beforeEach(() => {
  dir = tempDir('mcpd-life-');
  logs = new LogStore({ linesPerSource: 500 });
  children = new ChildRegistry(join(dir.path, 'children.json'));
});

afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((s) => s.dispose()));
  dir.cleanup();
});

interface Watched {
  server: ManagedServer;
  events: ServerStateEvent[];
  states: ServerState[];
  /** Every pid the server had, in order. */
  pids: () => number[];
}

function managed(config: ServerConfig): Watched {
  const server = new ManagedServer(config, { logs, children, clientInfo: { name: 'test', version: '0' } }, () => 0.5);
  const events: Watched['events'] = [];
  server.on('state', (e) => events.push(e));
  started.push(server);
  return {
    server,
    events,
    get states() {
      return events.map((e) => e.state);
    },
    pids: () => [...new Set(events.map((e) => e.status.pid).filter((p): p is number => p !== null))],
  };
}

const HANG_FAST = { pingIntervalMs: 150, pingTimeoutMs: 150 };

describe('actions that race', () => {
  it('ten restarts at once are one restart, and every caller gets the final state', async () => {
    const w = managed(serverConfig('fx', fixtureEntry()));
    await w.server.start();
    const before = w.states.length;
    const results = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 15)); // spread over ~150 ms, as ten CLIs would
        await w.server.restart();
        return w.server.state;
      }),
    );
    expect(results).toEqual(Array(10).fill('running'));
    const cycle = w.states.slice(before);
    // Requests that arrive while a restart runs join it (on a fast machine a late one may start one more).
    expect(cycle.filter((s) => s === 'starting').length).toBeLessThanOrEqual(3);
    expect(cycle.at(-1)).toBe('running');
    // Only the last pid lives.
    const pids = w.pids();
    expect(pids.slice(0, -1).every((p) => !pidAlive(p))).toBe(true);
  });

  it('a stop racing restarts answers stopped, never starting or stopping', async () => {
    const w = managed(serverConfig('fx', fixtureEntry()));
    await w.server.start();
    const seen: ServerState[] = [];
    const restarts = [w.server.restart(), w.server.restart()];
    await new Promise((r) => setTimeout(r, 30));
    const stop = w.server.stop().then(() => seen.push(w.server.state));
    await Promise.allSettled([...restarts, stop]);
    expect(seen).toEqual(['stopped']);
    expect(w.server.state).toBe('stopped');
    expect(w.pids().every((p) => !pidAlive(p))).toBe(true);
  });

  it('a stop cuts a slow start short instead of waiting for it', async () => {
    // Its initialize would take longer than this test may: a stop that waited would time it out.
    const w = managed(serverConfig('slow', fixtureEntry({ FIXTURE_SLOW_INIT_MS: '120000' }, { timeouts: { startupMs: 200_000 } })));
    const states: string[] = [];
    w.server.on('state', (e) => states.push(e.state));
    const start = w.server.start();
    await waitFor(() => w.server.status().pid, 5_000, 'the process');
    await w.server.stop();
    await start;
    expect(w.server.state).toBe('stopped');
    expect(states).toEqual(['starting', 'stopping', 'stopped']);
    expect(w.pids().every((p) => !pidAlive(p))).toBe(true);
  });

  it('start racing dispose never leaves a process, and a disposed server refuses every action', async () => {
    for (let round = 0; round < 6; round += 1) {
      const w = managed(serverConfig(`r${round}`, fixtureEntry()));
      const start = w.server.start().catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, round * 40));
      const disposed = w.server.dispose();
      const late = w.server.start().catch((e: unknown) => e);
      await Promise.all([start, disposed]);
      expect(isMcpdError(await late, 'MCPD_CLOSED')).toBe(true);
      expect(w.server.state).toBe('disposed');
      for (const action of [() => w.server.start(), () => w.server.restart(), () => w.server.stop()]) {
        await expect(action()).rejects.toMatchObject({ code: 'MCPD_CLOSED' });
      }
      expect(
        w.pids().every((p) => !pidAlive(p)),
        `round ${round}`,
      ).toBe(true);
    }
  });
});

describe('a failed attempt is torn down before the next', () => {
  it('a hung server that ignores SIGTERM is gone before its retry starts; its call in flight failed at once', async () => {
    const w = managed(
      serverConfig(
        'hung',
        fixtureEntry({ FIXTURE_IGNORE_SIGTERM: '1' }, { timeouts: { ...HANG_FAST, startupMs: 20_000, callMs: 60_000 } }),
      ),
    );
    await w.server.start();
    const firstPid = w.server.status().pid!;
    // Failed at once: while the SIGTERM-deaf process is still being stopped (that takes ~5 s).
    let aliveAtFailure: boolean | undefined;
    const call = w.server.callTool('slow', { ms: 60_000 }).catch((error: unknown) => {
      aliveAtFailure = pidAlive(firstPid);
      return error;
    });
    process.kill(firstPid, 'SIGUSR2'); // it stops reading stdin: the pings go unanswered
    // A second start only after the first process is gone (the stop escalation takes ~5 s).
    let aliveAtRetry: boolean | undefined;
    w.server.on('state', (e) => {
      if (e.state === 'starting' && aliveAtRetry === undefined) aliveAtRetry = pidAlive(firstPid);
    });
    const error = await call;
    const backoff = w.events.find((e) => e.state === 'backoff')!;
    expect(backoff).toBeDefined();
    expect(aliveAtFailure).toBe(true);
    expect(isMcpdError(error, 'MCPD_CALL_FAILED')).toBe(true);
    expect((error as Error).message).toContain('missed 2 health pings');
    await waitFor(() => aliveAtRetry !== undefined, 15_000, 'the retry');
    expect(aliveAtRetry).toBe(false);
  }, 30_000);
});

describe('a connection that breaks while the process lives', () => {
  it('stdout closed: calls fail at once, the server restarts, and the cause is in status and logs', async () => {
    const w = managed(
      serverConfig(
        'mute',
        fixtureEntry(
          { FIXTURE_CLOSE_STDOUT_AFTER_MS: '500' },
          { timeouts: { startupMs: 20_000, callMs: 60_000, pingIntervalMs: 60_000, pingTimeoutMs: 1_000 } },
        ),
      ),
    );
    await w.server.start();
    const firstPid = w.server.status().pid!;
    // A call of 60 s against callMs 60 s: only the closed stdout can end it within the test.
    const error = await w.server.callTool('slow', { ms: 60_000 }).catch((e: unknown) => e);
    expect(isMcpdError(error, 'MCPD_CALL_FAILED')).toBe(true);
    await waitFor(() => w.server.status().lastError ?? undefined, 2_000, 'the error');
    const status = w.server.status();
    expect(status.lastError!.code).toBe('MCPD_SERVER_CONNECTION_LOST');
    expect(status.lastError!.message).toContain('its stdout closed while its process was still running');
    expect(logs.read('mute', 500).some((e) => e.text.includes('its stdout closed'))).toBe(true);
    // The policy applies: it is restarted, and the old (still living) process was stopped.
    await waitFor(() => w.server.status().restarts >= 1 && w.server.state === 'running', 10_000, 'the restart');
    expect(pidAlive(firstPid)).toBe(false);
  });

  it('a result over 64 MiB: the call fails at once and the server is restarted', async () => {
    const w = managed(
      serverConfig(
        'huge',
        fixtureEntry({}, { timeouts: { startupMs: 20_000, callMs: 60_000, pingIntervalMs: 60_000, pingTimeoutMs: 1_000 } }),
      ),
    );
    await w.server.start();
    const error = await w.server.callTool('big', { bytes: 65 * 1024 * 1024 }).catch((e: unknown) => e);
    expect(isMcpdError(error, 'MCPD_CALL_FAILED')).toBe(true);
    await waitFor(() => w.server.status().lastError ?? undefined, 3_000, 'the error');
    expect(w.server.status().lastError!.message).toContain('exceeded 64 MiB');
    await waitFor(() => w.server.state === 'running' && w.server.status().restarts >= 1, 10_000, 'the restart');
  }, 30_000);
});

describe('start-up deadlines', () => {
  it('startupMs bounds the whole start: initialize and listing together', async () => {
    const w = managed(
      serverConfig(
        'slowboth',
        fixtureEntry(
          { FIXTURE_SLOW_INIT_MS: '400', FIXTURE_SLOW_LIST_MS: '400' },
          { timeouts: { startupMs: 600 }, restart: { maxRestarts: 0 } },
        ),
      ),
    );
    await w.server.start();
    expect(w.server.state).toBe('failed');
    expect(w.server.status().lastError!.message).toContain('did not finish starting (initialize and listing) within 600 ms');
  });

  it('the failure is recorded when startupMs elapses, not after the slow teardown', async () => {
    const w = managed(
      serverConfig(
        'deaf',
        fixtureEntry(
          { FIXTURE_HANG_INIT: '1', FIXTURE_IGNORE_SIGTERM: '1' },
          { timeouts: { startupMs: 300 }, restart: { maxRestarts: 0 } },
        ),
      ),
    );
    const start = w.server.start();
    const pid = await waitFor(() => w.server.status().pid ?? undefined, 5_000, 'the process');
    await waitFor(() => w.server.state !== 'starting', 5_000, 'the failure');
    // The state changed while the SIGTERM-deaf process still ran: it did not wait for its end.
    expect(pidAlive(pid)).toBe(true);
    expect(w.server.status().lastError!.message).toContain('within 300 ms');
    await start;
  }, 20_000);
});

describe('a server that stops reading its stdin', () => {
  it('fails calls that cannot be written, without a listener per write', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const w = managed(
        serverConfig(
          'deafin',
          fixtureEntry({}, { timeouts: { startupMs: 20_000, callMs: 3_000, pingIntervalMs: 60_000, pingTimeoutMs: 1_000 } }),
        ),
      );
      await w.server.start();
      process.kill(w.server.status().pid!, 'SIGUSR2');
      await waitFor(
        () => logs.read('deafin', 100).some((e) => e.text === 'fixture: deaf now') || undefined,
        10_000,
        'the fixture to stop reading',
      );
      const message = 'x'.repeat(1024 * 1024);
      const outcomes = await Promise.all(
        Array.from({ length: 80 }, () =>
          w.server.callTool('echo', { message }).then(
            () => 'ok',
            (e: unknown) => e,
          ),
        ),
      );
      const notReading = outcomes.filter((e) => isMcpdError(e, 'MCPD_SERVER_NOT_READING'));
      expect(notReading.length).toBeGreaterThan(10);
      expect((notReading[0] as Error).message).toContain('not reading its stdin');
      expect(outcomes.filter((e) => isMcpdError(e, 'MCPD_CALL_TIMEOUT')).length + notReading.length).toBe(80);
      const stdin = (w.server as unknown as { attempt: { upstream: { process: { stdin: NodeJS.WritableStream } } } }).attempt.upstream
        .process.stdin;
      expect(stdin.listenerCount('drain')).toBeLessThanOrEqual(1);
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  }, 20_000);
});

describe('event listeners', () => {
  it('one that throws does not stop the state change or the retry', async () => {
    const w = managed(serverConfig('crashy', fixtureEntry({ FIXTURE_CRASH_AFTER_MS: '300' })));
    w.server.on('state', () => {
      throw new Error('a broken listener');
    });
    await w.server.start();
    await waitFor(() => w.server.status().restarts >= 1 && w.server.state !== 'backoff', 5_000, 'the retry');
    expect(w.states).toContain('backoff');
    expect(logs.read('crashy', 500).some((e) => e.text.includes('a broken listener'))).toBe(true);
  });
});
