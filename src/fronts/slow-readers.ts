/**
 * Clients that stop reading (of the control socket, of the HTTP gateway's SSE streams) are
 * dropped, never buffered for without bound:
 * past the hard limit at once; past the soft limit they are watched, and dropped if they read
 * too little in the next `stallMs`. When all clients together hold too much, the one furthest
 * behind is dropped. A client that keeps reading, however much is in flight for it, stays.
 */
/** The limits of the control socket (protocol/control.ts), for fronts without their own. */
export const READER_LIMITS: ReaderLimits = {
  maxBufferedBytes: 64 * 1024 * 1024,
  softBufferedBytes: 4 * 1024 * 1024,
  stallMs: 5_000,
  minDrainBytes: 256 * 1024,
  maxTotalBufferedBytes: 256 * 1024 * 1024,
};

export interface ReaderLimits {
  maxBufferedBytes: number;
  softBufferedBytes: number;
  stallMs: number;
  minDrainBytes: number;
  maxTotalBufferedBytes: number;
}

export interface Reader {
  /** What is written to it and not yet read (a WebSocket's bufferedAmount, a response's writableLength). */
  unread(): number;
  /** While more than the soft limit is unread: the check that it still reads. */
  stall: { timer: NodeJS.Timeout; bufferedAtStart: number; sentSince: number } | undefined;
}

export class SlowReaders<R extends Reader> {
  constructor(
    private readonly limits: ReaderLimits,
    private readonly all: () => Iterable<R>,
    /** Cuts a client off (the caller terminates and forgets it), saying why. */
    private readonly drop: (reader: R, why: string) => void,
  ) {}

  /** Whether `bytes` more may be sent to this client now; false once it was dropped for not reading. */
  admit(reader: R, bytes: number): boolean {
    const behind = reader.unread();
    if (behind > this.limits.maxBufferedBytes) {
      this.dropBehind(reader, behind);
      return false;
    }
    if (behind > this.limits.softBufferedBytes) this.watch(reader);
    if (reader.stall) reader.stall.sentSince += bytes;
    if (behind > 0) this.boundTotal();
    return true;
  }

  private watch(reader: R): void {
    if (reader.stall) return;
    const timer = setTimeout(() => {
      const stall = reader.stall!;
      reader.stall = undefined;
      const now = reader.unread();
      const drained = stall.bufferedAtStart + stall.sentSince - now;
      if (now > this.limits.softBufferedBytes && drained < this.limits.minDrainBytes) this.dropBehind(reader, now);
      else if (now > this.limits.softBufferedBytes) this.watch(reader);
    }, this.limits.stallMs);
    timer.unref();
    reader.stall = { timer, bufferedAtStart: reader.unread(), sentSince: 0 };
  }

  private dropBehind(reader: R, unread: number): void {
    this.drop(reader, `it stopped reading (${unread} bytes unread)`);
  }

  private boundTotal(): void {
    let total = 0;
    let furthest: R | undefined;
    for (const r of this.all()) {
      const unread = r.unread();
      total += unread;
      if (!furthest || unread > furthest.unread()) furthest = r;
    }
    if (total > this.limits.maxTotalBufferedBytes && furthest) {
      this.drop(furthest, `clients hold ${total} unread bytes in all (limit ${this.limits.maxTotalBufferedBytes}); it was furthest behind`);
    }
  }
}
