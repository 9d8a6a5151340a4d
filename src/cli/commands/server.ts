import { McpdError } from '../../errors.js';
import { connectDaemon, type CliContext } from '../context.js';
import { serverLine } from '../format.js';

const ACTIONS = ['start', 'stop', 'restart'] as const;

export async function serverCommand(ctx: CliContext): Promise<number> {
  const [, action, name, extra] = ctx.args.positionals;
  if (!ACTIONS.includes(action as (typeof ACTIONS)[number]) || !name || extra !== undefined) {
    throw new McpdError('MCPD_USAGE', 'Usage: mcpd server start|stop|restart NAME');
  }
  const client = await connectDaemon(ctx);
  try {
    const { server } = await client.request(`servers.${action as (typeof ACTIONS)[number]}`, { name });
    ctx.out(ctx.args.json ? JSON.stringify(server, null, 2) : serverLine(server));
    const wanted = action === 'stop' ? ['stopped'] : ['running'];
    return wanted.includes(server.state) ? 0 : 1;
  } finally {
    client.close();
  }
}
