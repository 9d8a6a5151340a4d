/**
 * Writing the home's state files so that a full disk or a file in the wrong place costs only
 * what could not be written: whole files go to a temporary name and are renamed over the old one
 * (never an empty or torn file), and every failure is an McpdError naming the file
 * (MCPD_HOME_FULL, MCPD_HOME_UNWRITABLE) rather than a stack trace.
 */
import { accessSync, constants, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { McpdError } from '../errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A home I/O failure in words: what could not be done to which file, and why. */
export function homeIoError(error: unknown, file: string, what = 'write'): McpdError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && FULL.has(code)) {
    return new McpdError(
      'MCPD_HOME_FULL',
      `Cannot ${what} ${file}: the disk is full (${code}). Free some space; mcpd goes on without it meanwhile.`,
      {
        cause: error,
        details: { file, errno: code },
      },
    );
  }
  const why =
    code === 'EISDIR'
      ? 'a folder is in its place'
      : code === 'ENOTDIR'
        ? 'something on its path is not a folder'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'the disk is read-only'
            : (code ?? (error instanceof Error ? error.message : String(error)));
  return new McpdError('MCPD_HOME_UNWRITABLE', `Cannot ${what} ${file}: ${why}${code && why !== code ? ` (${code})` : ''}.`, {
    cause: error,
    details: { file, ...(code ? { errno: code } : {}) },
  });
}

function tempOf(file: string): string {
  return `${file}.${process.pid}.tmp`;
}

/** Replaces `file` whole, or leaves it as it was (and no temporary file behind). */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = tempOf(file);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true, recursive: false });
    throw homeIoError(error, file);
  }
}

/** writeFileAtomic, without blocking the event loop. */
export async function writeFileAtomicAsync(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = tempOf(file);
  try {
    await writeFile(tmp, data, { mode });
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw homeIoError(error, file);
  }
}

/** A regular file this process may run. */
export function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
