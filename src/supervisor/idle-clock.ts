/**
 * When a server has gone unused for its `idleStopMs`: no request for that long, and nothing that
 * holds it (a request in flight, a resource subscription, a chat turn that called it).
 * One timer per server, moved only when it fires: a request costs a counter and a timestamp.
 */
export class IdleClock {
  private users = 0;
  private last = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private armed = false;

  constructor(
    private readonly afterMs: number | null,
    private readonly onIdle: () => void,
  ) {}

  /** Counts from now (the server runs). Without `idleStopMs`, never fires. */
  arm(): void {
    if (this.afterMs === null) return;
    this.armed = true;
    this.last = Date.now();
    this.schedule(this.afterMs);
  }

  disarm(): void {
    this.armed = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something uses the server until the returned function is called (once; later calls do nothing). */
  use(): () => void {
    this.users += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.users -= 1;
      this.last = Date.now();
      if (this.users === 0 && this.armed && this.timer === undefined) this.schedule(this.afterMs!);
    };
  }

  get inUse(): boolean {
    return this.users > 0;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    // In use: the last user's end schedules the next check.
    if (!this.armed || this.users > 0) return;
    const left = this.last + this.afterMs! - Date.now();
    if (left > 0) this.schedule(left);
    else this.onIdle();
  }
}
