import { connectDaemon, type CliContext } from '../context.js';

export async function reloadCommand(ctx: CliContext): Promise<number> {
  const client = await connectDaemon(ctx);
  try {
    const result = await client.request('config.reload', {}, { timeoutMs: 120_000 });
    if (ctx.args.json) {
      ctx.out(JSON.stringify(result, null, 2));
      return 0;
    }
    const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
    ctx.out(`Reloaded ${result.file ?? 'the config'}`);
    ctx.out(
      `  added: ${list(result.added)}; removed: ${list(result.removed)}; changed: ${list(result.changed)}; unchanged: ${result.unchanged.length}`,
    );
    if (result.pluginsChanged) ctx.out('  plugins: the list changed; reloaded (see mcpd status)');
    for (const what of result.needsRestart)
      ctx.out(`  ${what}: changed, but only a restart applies it (the daemon keeps the old until: mcpd stop, then mcpd start)`);
    for (const warning of result.warnings) ctx.out(`  warning: ${warning}`);
    return 0;
  } finally {
    client.close();
  }
}
