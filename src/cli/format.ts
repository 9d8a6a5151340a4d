/** Human output: durations, tables, one-line summaries. */
import type { ServerStatus } from '../model.js';

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function table(headers: string[], rows: string[][], maxWidth = process.stdout.columns ?? 120): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lines = [headers, ...rows].map((row) => {
    const line = row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
    return line.length > maxWidth ? `${line.slice(0, maxWidth - 1)}…` : line;
  });
  return lines.join('\n');
}

export function serverLine(s: ServerStatus): string {
  const parts: string[] = [s.state];
  if (s.pid !== null) parts.push(`pid ${s.pid}`);
  if (s.state === 'running') parts.push(`${s.toolCount} tools`);
  if (s.state === 'backoff' && s.nextRetryMs !== null) parts.push(`retry in ${duration(s.nextRetryMs + 999)}`);
  let line = `${s.name}: ${parts.join(', ')}`;
  if (s.lastError && s.state !== 'running') line += `\n  ${s.lastError.message}`;
  return line;
}

export function firstLine(text: string | undefined, max = 80): string {
  const line = (text ?? '').split('\n')[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
