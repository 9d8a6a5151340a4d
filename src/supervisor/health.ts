/**
 * Idle health checks: when a server has been quiet for a ping interval, ping it; two missed pings
 * in a row mean it is hung.
 */
export const MISSED_PINGS_TO_HANG = 2;

export interface HealthMonitorOptions {
  intervalMs: number;
  timeoutMs: number;
  ping: (timeoutMs: number) => Promise<unknown>;
  onHung: (missed: number) => void;
  /** When the server last showed a sign of life (ms since epoch). */
  lastActivity: () => number;
}

export class HealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private missed = 0;
  private stopped = false;

  constructor(private readonly options: HealthMonitorOptions) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  private async check(): Promise<void> {
    if (this.stopped) return;
    const idleFor = Date.now() - this.options.lastActivity();
    if (this.missed === 0 && idleFor < this.options.intervalMs) {
      this.schedule();
      return;
    }
    try {
      await this.options.ping(this.options.timeoutMs);
      this.missed = 0;
    } catch {
      this.missed += 1;
      if (this.missed >= MISSED_PINGS_TO_HANG) {
        if (!this.stopped) this.options.onHung(this.missed);
        return;
      }
    }
    this.schedule();
  }
}
