import type { LogEntry } from '../../protocol/types.js';
import { connectDaemon, type CliContext } from '../context.js';

export function renderLog(entry: LogEntry): string {
  const time = entry.time.slice(11, 23);
  const stream = entry.stream === 'daemon' ? (entry.level === 'info' ? '' : ` ${entry.level}`) : ` ${entry.stream}`;
  return `${time} ${entry.source}${stream} | ${entry.text}`;
}

export async function logsCommand(ctx: CliContext): Promise<number> {
  const server = ctx.args.positionals[1];
  const client = await connectDaemon(ctx);
  const print = (entry: LogEntry) => ctx.out(ctx.args.json ? JSON.stringify(entry) : renderLog(entry));
  const lines = ctx.args.lines ?? 100;
  // Read even for -n 0: it checks the server name.
  let entries: LogEntry[];
  try {
    ({ entries } = await client.request('logs.read', { ...(server ? { server } : {}), lines: Math.max(lines, 1) }));
  } catch (error) {
    client.close();
    throw error;
  }
  const lastSeq = entries.at(-1)?.seq ?? 0;
  if (lines === 0) entries.length = 0;
  for (const entry of entries) print(entry);
  if (!ctx.args.follow) {
    client.close();
    return 0;
  }
  client.on('log:line', (entry) => {
    if (entry.seq <= lastSeq || (server !== undefined && entry.source !== server)) return;
    print(entry);
  });
  await client.subscribe(['log:line']);
  return new Promise<number>((resolve) => {
    const onSigint = () => {
      client.close();
      resolve(0);
    };
    process.once('SIGINT', onSigint);
    client.once('close', () => {
      process.off('SIGINT', onSigint);
      ctx.err('The daemon stopped.');
      resolve(0);
    });
  });
}
