/**
 * `mcpd ui`: the web dashboard. The daemon opens it (on the loopback HTTP gateway, or a loopback
 * port of its own) and gives a URL that signs a browser in (its token is new at each daemon start).
 */
import { connectDaemon, type CliContext } from '../context.js';
import { openBrowser } from '../browser.js';

export async function uiCommand(ctx: CliContext): Promise<number> {
  const client = await connectDaemon(ctx);
  try {
    const { url } = await client.request('ui.open', {}, { timeoutMs: 10_000 });
    if (ctx.args.json) {
      ctx.out(JSON.stringify({ url }));
      return 0;
    }
    const opened = !ctx.args.noBrowser && openBrowser(url);
    ctx.err(
      opened
        ? 'Opening the dashboard in your browser. If it does not open, visit:'
        : 'Open the dashboard in a browser on this machine (the link signs that browser in; keep it to yourself):',
    );
    ctx.out(url);
    return 0;
  } finally {
    client.close();
  }
}
