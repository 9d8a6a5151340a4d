/**
 * audit-log: one JSON line per tool call — time, caller, tool, a digest of the arguments,
 * duration, outcome — in a file rotated by size. Every path is logged: chat, `mcpd call`, MCP
 * clients of mcpd; denied calls too.
 *
 * Options: { file?: string (default: MCPD_HOME/plugins/audit-log/audit.jsonl),
 *            maxBytes?: number (default 10 MiB), keep?: number (rotated files kept, default 3) }
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { definePlugin } from 'mcpd/plugin';

interface Options {
  file?: string;
  maxBytes?: number;
  keep?: number;
}

/** JSON with sorted keys, so the same arguments always give the same digest. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function argumentsDigest(args: unknown): string {
  return `sha256:${createHash('sha256').update(canonical(args)).digest('hex').slice(0, 16)}`;
}

export default definePlugin<Options>({
  name: 'audit-log',
  setup(ctx, options) {
    const file = options.file ? resolve(options.file) : join(ctx.dataDir, 'audit.jsonl');
    const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
    const keep = Math.max(1, options.keep ?? 3);

    const rotate = (incoming: number) => {
      let size = 0;
      try {
        size = statSync(file).size;
      } catch {
        return;
      }
      if (size + incoming <= maxBytes) return;
      rmSync(`${file}.${keep}`, { force: true });
      for (let i = keep - 1; i >= 1; i -= 1) if (existsSync(`${file}.${i}`)) renameSync(`${file}.${i}`, `${file}.${i + 1}`);
      renameSync(file, `${file}.1`);
    };

    ctx.log.info(`writing to ${file}`);
    return {
      onEvent(event) {
        if (event.type !== 'tool:called') return;
        const { call } = event;
        const line = `${JSON.stringify({
          time: new Date().toISOString(),
          caller: call.caller,
          ...(call.client ? { client: call.client } : {}),
          ...(call.sessionId ? { session: call.sessionId } : {}),
          tool: call.tool,
          server: call.server,
          args: argumentsDigest(call.arguments),
          durationMs: event.durationMs,
          outcome: event.outcome,
          ...(event.error ? { error: event.error } : {}),
        })}\n`;
        rotate(Buffer.byteLength(line));
        appendFileSync(file, line, { mode: 0o600 });
      },
    };
  },
});
