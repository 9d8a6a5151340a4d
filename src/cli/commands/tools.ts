import { connectDaemon, type CliContext } from '../context.js';
import { firstLine, table } from '../format.js';

export async function toolsCommand(ctx: CliContext): Promise<number> {
  const server = ctx.args.positionals[1];
  const client = await connectDaemon(ctx);
  try {
    const { tools } = await client.request('tools.list', server === undefined ? {} : { server });
    if (ctx.args.json) {
      ctx.out(JSON.stringify(tools, null, 2));
      return 0;
    }
    if (tools.length === 0) {
      ctx.out(server === undefined ? 'No tools: no server is running yet (see: mcpd status).' : `Server "${server}" has no tools (see: mcpd status).`);
      return 0;
    }
    ctx.out(table(['TOOL', 'SERVER', 'DESCRIPTION'], tools.map((t) => [t.name, t.server, firstLine(t.description)])));
    ctx.out(`\n${tools.length} tools. Call one with: mcpd call TOOL '{"arg": "value"}'`);
    return 0;
  } finally {
    client.close();
  }
}
