/** The daemon's and servers' captured log lines: one bounded ring per source, and a live stream. */
import { GuardedEmitter } from '../util/emitter.js';
import type { LogEntry, LogLevel, LogStream } from '../protocol/types.js';
import { Ring } from './ring.js';
import { scrubSecrets } from '../util/secrets.js';

export const MAX_LINE_LENGTH = 8 * 1024;

export interface LogStoreOptions {
  linesPerSource?: number;
  /** Called for each daemon line (the foreground daemon prints them to stderr). */
  echo?: (entry: LogEntry) => void;
}

export interface Logger {
  debug(text: string): void;
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export class LogStore extends GuardedEmitter<{ line: (entry: LogEntry) => void }> {
  private readonly rings = new Map<string, Ring<LogEntry>>();
  private seq = 0;
  private readonly capacity: number;

  constructor(private readonly options: LogStoreOptions = {}) {
    super();
    this.capacity = options.linesPerSource ?? 2000;
  }

  append(source: string, stream: LogStream, level: LogLevel, text: string, mcpLevel?: string): LogEntry {
    const clipped = scrubSecrets(
      text.length > MAX_LINE_LENGTH ? `${text.slice(0, MAX_LINE_LENGTH)}… [line cut at ${MAX_LINE_LENGTH} chars]` : text,
    );
    const entry: LogEntry = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      source,
      stream,
      level,
      text: clipped,
      ...(mcpLevel ? { mcpLevel } : {}),
    };
    let ring = this.rings.get(source);
    if (!ring) {
      ring = new Ring<LogEntry>(this.capacity);
      this.rings.set(source, ring);
    }
    ring.push(entry);
    if (stream === 'daemon') this.options.echo?.(entry);
    this.emit('line', entry);
    return entry;
  }

  /** The last `n` lines of one source, or of all sources merged in order. */
  read(source?: string, n = 100): LogEntry[] {
    if (source !== undefined) return this.rings.get(source)?.tail(n) ?? [];
    const all: LogEntry[] = [];
    for (const ring of this.rings.values()) all.push(...ring.tail(n));
    all.sort((a, b) => a.seq - b.seq);
    return all.slice(-n);
  }

  /** Every source that has logged something. */
  sources(): string[] {
    return [...this.rings.keys()];
  }

  /** The sequence number of the newest line (0 before any): a mark to read stderr from. */
  get lastSeq(): number {
    return this.seq;
  }

  /** The last lines of one source's stderr written after line `afterSeq`, for error messages. */
  stderrTail(source: string, n = 10, afterSeq = 0): string[] {
    return (this.rings.get(source)?.tail(this.capacity) ?? [])
      .filter((e) => e.stream === 'stderr' && e.seq > afterSeq)
      .slice(-n)
      .map((e) => e.text);
  }

  logger(source: string): Logger {
    const write = (level: LogLevel) => (text: string) => {
      this.append(source, 'daemon', level, text);
    };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
  }
}
