/**
 * Checks a server's command before spawning, so a missing or non-executable one is reported as
 * such (and the server failed at once) instead of as a crash to retry.
 */
import { statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { McpdError } from '../../errors.js';
import { isExecutableFile } from '../../util/files.js';

/** Returns the absolute path that will run, or throws MCPD_SERVER_COMMAND_NOT_FOUND. */
export function resolveCommand(server: string, command: string, cwd: string, pathVar: string | undefined): string {
  if (isAbsolute(command) || command.includes('/')) {
    const full = isAbsolute(command) ? command : resolve(cwd, command);
    let exists = false;
    try {
      exists = statSync(full).isFile();
    } catch {
      exists = false;
    }
    if (!exists) {
      throw new McpdError('MCPD_SERVER_COMMAND_NOT_FOUND', `Server "${server}": command ${full} does not exist.`, { server });
    }
    if (!isExecutableFile(full)) {
      throw new McpdError(
        'MCPD_SERVER_COMMAND_NOT_FOUND',
        `Server "${server}": command ${full} is not executable (chmod +x it, or run it through its interpreter).`,
        { server },
      );
    }
    return full;
  }
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(resolve(cwd, dir), command);
    if (isExecutableFile(candidate)) return candidate;
  }
  throw new McpdError('MCPD_SERVER_COMMAND_NOT_FOUND', `Server "${server}": command "${command}" was not found on PATH.`, {
    server,
    details: { command },
  });
}
