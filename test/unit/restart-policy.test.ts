import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RESTART } from '../../src/config/schema.js';
import { HealthMonitor } from '../../src/supervisor/health.js';
import { RestartPolicy } from '../../src/supervisor/restart-policy.js';

const noJitter = () => 0.5; // 2 * 0.5 - 1 = 0: exactly the base delay

describe('RestartPolicy', () => {
  it('backs off 1, 2, 4, 8, 16 then 30 s', () => {
    const policy = new RestartPolicy({ ...DEFAULT_RESTART, maxRestarts: 100 }, noJitter);
    const delays: number[] = [];
    for (let i = 0; i < 7; i += 1) {
      const decision = policy.onFailure(i * 200_000); // far apart: the window never fills
      if (decision.action !== 'retry') throw new Error('gave up');
      delays.push(decision.delayMs);
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('keeps jitter within ±20 %', () => {
    const low = new RestartPolicy(DEFAULT_RESTART, () => 0).onFailure(0);
    const high = new RestartPolicy(DEFAULT_RESTART, () => 0.999999).onFailure(0);
    expect(low).toMatchObject({ action: 'retry', delayMs: 800 });
    expect(high).toMatchObject({ action: 'retry', delayMs: 1200 });
  });

  it('gives up after more than 5 failures within 120 s', () => {
    const policy = new RestartPolicy(DEFAULT_RESTART, noJitter);
    for (let i = 0; i < 5; i += 1) expect(policy.onFailure(i * 1000).action).toBe('retry');
    expect(policy.onFailure(5000)).toEqual({ action: 'give-up', failuresInWindow: 6 });
  });

  it('forgets failures older than the window', () => {
    const policy = new RestartPolicy(DEFAULT_RESTART, noJitter);
    for (let i = 0; i < 5; i += 1) policy.onFailure(i * 1000);
    expect(policy.onFailure(125_000).action).toBe('retry');
  });

  it('resets the backoff after 60 s healthy', () => {
    const policy = new RestartPolicy(DEFAULT_RESTART, noJitter);
    policy.onFailure(0);
    policy.onFailure(1_000);
    expect(policy.onFailure(2_000)).toMatchObject({ delayMs: 4000 });
    // Ran healthy from t=10 s to t=75 s, then crashed.
    expect(policy.onFailure(75_000, 10_000)).toMatchObject({ delayMs: 1000 });
  });

  it('reset() (a manual restart) clears everything', () => {
    const policy = new RestartPolicy(DEFAULT_RESTART, noJitter);
    for (let i = 0; i < 6; i += 1) policy.onFailure(i);
    policy.reset();
    expect(policy.onFailure(10)).toMatchObject({ action: 'retry', delayMs: 1000 });
  });
});

describe('HealthMonitor (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('pings only when idle and declares a hang after two missed pings in a row', async () => {
    vi.useFakeTimers();
    let lastActivity = Date.now();
    const ping = vi.fn<(timeout: number) => Promise<unknown>>().mockResolvedValue({});
    const onHung = vi.fn();
    const monitor = new HealthMonitor({ intervalMs: 30_000, timeoutMs: 10_000, ping, onHung, lastActivity: () => lastActivity });
    monitor.start();

    // Busy: activity within the interval means no ping.
    await vi.advanceTimersByTimeAsync(20_000);
    lastActivity = Date.now();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ping).not.toHaveBeenCalled();

    // Idle: a ping goes out, answered.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ping).toHaveBeenCalledTimes(1);
    expect(ping).toHaveBeenLastCalledWith(10_000);

    // Two missed in a row: hung.
    ping.mockRejectedValue(new Error('timeout'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(onHung).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(onHung).toHaveBeenCalledWith(2);
    monitor.stop();
  });

  it('one missed ping followed by an answer is not a hang', async () => {
    vi.useFakeTimers();
    const ping = vi.fn<(timeout: number) => Promise<unknown>>().mockRejectedValueOnce(new Error('timeout')).mockResolvedValue({});
    const onHung = vi.fn();
    const monitor = new HealthMonitor({ intervalMs: 1_000, timeoutMs: 500, ping, onHung, lastActivity: () => 0 });
    monitor.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(ping.mock.calls.length).toBeGreaterThanOrEqual(4);
    expect(onHung).not.toHaveBeenCalled();
    monitor.stop();
  });
});
