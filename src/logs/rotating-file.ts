/**
 * An append-only log file that rotates by size: FILE → FILE.1 → … → FILE.N (the oldest dropped),
 * so the daemon's log on disk stays under (keep + 1) × maxBytes however long it runs.
 * Writes are synchronous: a line is on disk before the daemon can crash. A line that cannot be
 * written (a full disk) is counted, never thrown: the log is not worth the daemon, and the first
 * line written again says how many were lost.
 */
import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homeIoError } from '../util/files.js';

export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_LOG_KEEP = 3;

export class RotatingFile {
  private fd: number;
  private size: number;

  private lost = 0;
  private lostWhy = '';

  /** Throws MCPD_HOME_FULL or MCPD_HOME_UNWRITABLE when the file cannot be opened. */
  constructor(
    readonly path: string,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
    private readonly keep = DEFAULT_LOG_KEEP,
  ) {
    try {
      this.fd = openSync(path, 'a', 0o600);
    } catch (error) {
      throw homeIoError(error, path, 'open');
    }
    this.size = fstatSync(this.fd).size;
  }

  write(text: string): void {
    try {
      if (this.lost > 0) {
        this.append(`mcpd: ${this.lost} log line(s) could not be written here (${this.lostWhy})\n`);
        this.lost = 0;
      }
      this.append(text);
    } catch (error) {
      this.lost += 1;
      this.lostWhy = (error as NodeJS.ErrnoException).code ?? String(error);
    }
  }

  private append(text: string): void {
    const bytes = Buffer.from(text);
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    rmSync(`${this.path}.${this.keep}`, { force: true });
    for (let n = this.keep - 1; n >= 1; n -= 1) {
      try {
        renameSync(`${this.path}.${n}`, `${this.path}.${n + 1}`);
      } catch {
        // no such generation yet
      }
    }
    renameSync(this.path, `${this.path}.1`);
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = 0;
  }
}
