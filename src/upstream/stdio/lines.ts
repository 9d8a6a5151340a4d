/** A server's stderr, line by line, for the log ring. */

/** Splits a byte stream into lines (the last partial line is flushed at the end). */
export function pipeLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void, maxLine = 64 * 1024): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    partial += chunk;
    let index: number;
    while ((index = partial.indexOf('\n')) !== -1) {
      onLine(partial.slice(0, index).replace(/\r$/, ''));
      partial = partial.slice(index + 1);
    }
    if (partial.length > maxLine) {
      onLine(partial);
      partial = '';
    }
  });
  stream.on('end', () => {
    if (partial) onLine(partial);
    partial = '';
  });
  stream.on('error', () => undefined);
}
