/** `mcpd stop`: asks the daemon to stop and waits until it and every server are gone. */
import { McpdError } from '../../errors.js';
import { processAlive } from '../../util/proc.js';
import { delay } from '../../util/time.js';
import { connectDaemon, type CliContext } from '../context.js';

const STOP_TIMEOUT_MS = 30_000;

export async function stopCommand(ctx: CliContext): Promise<number> {
  const client = await connectDaemon(ctx);
  const pid = client.daemon.pid;
  await client.request('daemon.stop', {});
  const closed = await client.closed(STOP_TIMEOUT_MS);
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (processAlive(pid) && Date.now() < deadline) await delay(10);
  if (!closed || processAlive(pid))
    throw new McpdError('MCPD_TIMEOUT', `The daemon (pid ${pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s.`);
  ctx.out(`mcpd stopped (pid ${pid}).`);
  return 0;
}
