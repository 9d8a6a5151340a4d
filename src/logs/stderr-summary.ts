/**
 * The lines of a server's stderr that say why it failed, for an error message: what a stack
 * trace, Node's error object and its version banner bury (`Error [ERR_MODULE_NOT_FOUND]: Cannot
 * find module …` comes before twenty lines of frames), kept, and the frames left out.
 */

/** Lines that never say why: blanks, stack frames, the caret under a source line, Node's banner and error-object members. */
const NOISE = [
  /^\s*$/,
  /^\s+at\s/,
  /^\s*\^+\s*$/,
  /^Node\.js v\d/,
  /^node:internal\//,
  /^\s*throw\s/,
  /^\s*[{}[\]]\s*$/,
  /^\s+(code|url|errno|syscall|path|requireStack|cause|input|reason|library|opensslErrorStack)\b.*:/,
];

/** A line that names the error: `SomethingError: …`, `Error [CODE]: …`, `Traceback`, `error: …`. */
const HEADLINE = /(^|\s)[A-Z]?\w*(Error|Exception)\b[^:]*:|^Traceback\b|^(error|fatal|panic)\b/i;

export function stderrSummary(lines: readonly string[], max = 5): string[] {
  const telling = lines.filter((line) => !NOISE.some((noise) => noise.test(line)));
  const tail = telling.slice(-max);
  const headline = telling.find((line) => HEADLINE.test(line));
  if (headline === undefined || tail.includes(headline)) return tail;
  return [headline, '…', ...tail.slice(-(max - 1))];
}
