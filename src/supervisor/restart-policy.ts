/**
 * When to restart a failed server, and when to give up. Pure: time comes in as arguments,
 * randomness is injected, so it is tested without real clocks.
 *
 * Backoff 1, 2, 4, 8, 16, then 30 s (configurable), ±20 % jitter. The backoff resets after the
 * server ran healthy for `resetAfterMs`. More than `maxRestarts` failures within `windowMs`
 * gives up: the server becomes `failed`.
 */
import type { RestartPolicyConfig } from '../config/types.js';

export const JITTER = 0.2;

export type RestartDecision = { action: 'retry'; delayMs: number; attempt: number } | { action: 'give-up'; failuresInWindow: number };

export class RestartPolicy {
  private failures: number[] = [];
  private consecutive = 0;

  constructor(
    private readonly config: RestartPolicyConfig,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A start failed or a running server died at `now`. `runningSince` is when it last became
   * healthy (undefined if it never got there this time).
   */
  onFailure(now: number, runningSince?: number): RestartDecision {
    if (runningSince !== undefined && now - runningSince >= this.config.resetAfterMs) this.consecutive = 0;
    this.failures = this.failures.filter((t) => now - t < this.config.windowMs);
    this.failures.push(now);
    if (this.failures.length > this.config.maxRestarts) {
      return { action: 'give-up', failuresInWindow: this.failures.length };
    }
    const base = Math.min(this.config.initialDelayMs * 2 ** this.consecutive, this.config.maxDelayMs);
    this.consecutive += 1;
    const jitter = 1 + JITTER * (2 * this.random() - 1);
    return { action: 'retry', delayMs: Math.round(base * jitter), attempt: this.consecutive };
  }

  /** A manual start or restart: forget the history (this is what clears `failed`). */
  reset(): void {
    this.failures = [];
    this.consecutive = 0;
  }
}
