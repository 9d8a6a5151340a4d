/** The daemon's and servers' captured logs (logs/store.ts). */
import type { LogEntry, LogLevel, LogStream } from '../protocol/types.js';

export type { Logger } from '../logs/store.js';

export interface LogsPort {
  read(source: string | undefined, lines: number): LogEntry[];
  /** Log sources that exist (servers, daemon, chat, plugin:NAME). */
  sources(): string[];
  append(source: string, stream: LogStream, level: LogLevel, text: string): LogEntry;
}
