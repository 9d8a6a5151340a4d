/**
 * Colour on a terminal that takes it: never with NO_COLOR (https://no-color.org), --no-color, a
 * pipe or TERM=dumb; FORCE_COLOR forces it.
 */

export function colorEnabled(
  stream: { isTTY?: boolean } = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
  argv: string[] = process.argv,
): boolean {
  if (argv.includes('--no-color') || (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '')) return false;
  if (env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;
export type Color = keyof typeof CODES;

export function paint(text: string, color: Color | undefined, enabled = colorEnabled()): string {
  return enabled && color ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

export function stateColor(state: string): Color | undefined {
  if (state === 'running' || state === 'signed in' || state === 'loaded') return 'green';
  if (state === 'starting' || state === 'stopping' || state === 'backoff') return 'yellow';
  if (state === 'failed' || state === 'needs-auth') return 'red';
  // Healthy, without a process: it wakes on first use.
  if (state === 'idle') return 'cyan';
  if (state === 'stopped' || state === 'disabled' || state === 'disposed') return 'dim';
  return undefined;
}

export { plural } from '../util/plural.js';
