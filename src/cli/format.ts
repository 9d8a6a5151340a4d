/** Human output: durations, tables, one-line summaries. */
import type { ServerStatus } from '../protocol/types.js';
import { colorEnabled, paint, plural, stateColor, type Color } from './color.js';

/** A long span, coarsely: uptime, time since, time until a retry ("42s", "5m 3s", "2d 4h"). */
export function span(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** How long one call or step took, precisely ("5 ms", "1.2 s"). */
export function elapsed(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Columns padded to their widest cell; a line longer than the terminal is cut. `colors` paints
 * cells of a column (after padding, so widths hold); the last column is never painted, so a cut
 * never splits a colour code.
 */
export function table(
  headers: string[],
  rows: string[][],
  maxWidth = process.stdout.columns ?? 120,
  colors: Record<number, (cell: string) => Color | undefined> = {},
): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const enabled = colorEnabled();
  const lines = [headers, ...rows].map((row, index) => {
    const cells = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)));
    const plain = cells.join('  ');
    const painted = cells
      .map((cell, i) =>
        index > 0 && i < row.length - 1 && colors[i]
          ? paint(cell, colors[i](row[i]!), enabled)
          : index === 0 && i < row.length - 1
            ? paint(cell, 'bold', enabled)
            : cell,
      )
      .join('  ');
    return plain.length > maxWidth ? `${painted.slice(0, painted.length - (plain.length - maxWidth) - 1)}…` : painted;
  });
  return lines.join('\n');
}

export function serverLine(s: ServerStatus): string {
  const parts: string[] = [paint(s.state, stateColor(s.state))];
  if (s.pid !== null) parts.push(`pid ${s.pid}`);
  if (s.state === 'running') parts.push(plural(s.toolCount, 'tool'));
  if (s.state === 'idle') parts.push(plural(s.toolCount, 'tool'), idleNote(s));
  if (s.state === 'backoff' && s.nextRetryMs !== null) parts.push(`retry in ${span(s.nextRetryMs + 999)}`);
  let line = `${s.name}: ${parts.join(', ')}`;
  if (s.lastError && s.state !== 'running') line += `\n  ${s.lastError.message}`;
  return line;
}

/** What `idle` means, and when it last ran: `wakes on first use, last ran 4m ago`. */
export function idleNote(s: ServerStatus): string {
  const ran = s.lastRanAt ? `, last ran ${span(Date.now() - Date.parse(s.lastRanAt))} ago` : '';
  return `wakes on first use${ran}`;
}

export function firstLine(text: string | undefined, max = 80): string {
  const line = (text ?? '').split('\n')[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * Arguments to show in a "Call it with" line: each property a value of its type (a number for a
 * number, never "…" in quotes), its default or first enum value when it has one; the required
 * properties when some are, else all.
 */
export function exampleArguments(schema: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
  const names = required.length > 0 ? required.filter((n) => n in properties) : Object.keys(properties);
  const sample = (spec: Record<string, unknown> = {}): unknown => {
    if (spec['default'] !== undefined) return spec['default'];
    if (Array.isArray(spec['enum']) && spec['enum'].length > 0) return spec['enum'][0];
    if (spec['const'] !== undefined) return spec['const'];
    const type = Array.isArray(spec['type']) ? (spec['type'] as unknown[]).find((t) => t !== 'null') : spec['type'];
    if (type === 'number' || type === 'integer') {
      // 1, unless the bounds leave it out.
      const [low, high] = [spec['minimum'], spec['maximum']];
      return typeof low === 'number' && low > 1 ? low : typeof high === 'number' && high < 1 ? high : 1;
    }
    if (type === 'boolean') return true;
    if (type === 'array') return [];
    if (type === 'object') return {};
    return '…';
  };
  return Object.fromEntries(names.map((name) => [name, sample(properties[name])]));
}

/** A word for a POSIX shell, in single quotes. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a tool's MCP App means for a person at the CLI (read from `_meta.ui` here, not with
 * ext-apps' helpers: those would load zod into every one-shot command).
 */
export function appNote(tool: { _meta?: Record<string, unknown> | undefined }): string | undefined {
  const ui = tool._meta?.['ui'] as { visibility?: unknown; resourceUri?: unknown } | undefined;
  if (Array.isArray(ui?.visibility) && ui.visibility.length === 1 && ui.visibility[0] === 'app') return 'for its App only';
  const uri = ui?.resourceUri ?? tool._meta?.['ui/resourceUri'];
  return typeof uri === 'string' && uri.startsWith('ui://') ? 'has an App' : undefined;
}
