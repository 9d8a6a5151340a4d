/**
 * Headers of a remote server whose values come from a command (a token helper): run at connect
 * time, and once more on a 401 (the token may have rotated). The output is a secret.
 */
import { execa } from 'execa';
import type { HeaderValue, HttpServerConfig } from '../../config/types.js';
import { McpdError } from '../../errors.js';

const HEADER_COMMAND_TIMEOUT_MS = 10_000;

export function hasCommandHeaders(config: HttpServerConfig): boolean {
  return Object.values(config.headers).some((v) => typeof v !== 'string');
}

/**
 * The headers to send: literal values as they are, command values from the command's stdout
 * (trimmed, after `prefix`). The output is a secret: never logged, not even on failure.
 */
export async function resolveHeaders(config: HttpServerConfig, signal: AbortSignal): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    out[name] = typeof value === 'string' ? value : await runHeaderCommand(config.name, name, value, signal);
  }
  return out;
}

async function runHeaderCommand(server: string, header: string, value: Exclude<HeaderValue, string>, signal: AbortSignal): Promise<string> {
  const [file, ...args] = value.command;
  const result = await execa(file!, args, {
    reject: false,
    timeout: HEADER_COMMAND_TIMEOUT_MS,
    cancelSignal: signal,
    stdin: 'ignore',
    stripFinalNewline: true,
  });
  if (result.failed || result.stdout.trim() === '') {
    const why = result.timedOut
      ? `did not finish within ${HEADER_COMMAND_TIMEOUT_MS / 1000} s`
      : result.exitCode === undefined
        ? `could not run (${result.code ?? 'error'})`
        : result.stdout.trim() === '' && result.exitCode === 0
          ? 'printed nothing'
          : `exited with ${result.exitCode}`;
    throw new McpdError(
      'MCPD_SERVER_INIT_FAILED',
      `Server "${server}": the command for header ${header} (servers.${server}.headers.${header}.command: ${value.command.join(' ')}) ${why}.`,
      { server },
    );
  }
  return `${value.prefix ?? ''}${result.stdout.trim()}`;
}
