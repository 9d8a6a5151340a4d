/**
 * `mcpd auth`: the remote servers' sign-ins. With NAME, signs in: the daemon (which keeps the
 * tokens) starts the OAuth flow and takes the redirect on a loopback port; this prints the URL,
 * opens the browser when there is one, and waits until the server runs. `--logout` forgets.
 */
import { McpdError } from '../../errors.js';
import type { AuthStatus } from '../../protocol/types.js';
import { connectDaemon, type CliContext } from '../context.js';
import { serverLine, table } from '../format.js';
import { openBrowser } from '../browser.js';

/** Slightly more than the daemon's own 5 minutes for the person to finish. */
const WAIT_MS = 5 * 60_000 + 10_000;

function describe(status: AuthStatus): string {
  if (status.pending) return 'waiting for the browser';
  if (status.state === 'signed-in')
    return status.expiresAt ? `signed in, expires ${status.expiresAt.slice(0, 16).replace('T', ' ')}Z` : 'signed in';
  if (status.state === 'expired') return 'signed in, token expired (refreshed when used)';
  if (status.state === 'needs-sign-in') return `needs sign-in: mcpd auth ${status.server}`;
  return 'not signed in';
}

export async function authCommand(ctx: CliContext): Promise<number> {
  const [, name, extra] = ctx.args.positionals;
  if (extra !== undefined || (ctx.args.logout && !name))
    throw new McpdError('MCPD_USAGE', 'Usage: mcpd auth [NAME] [--no-browser] [--logout]');
  const client = await connectDaemon(ctx);
  try {
    if (!name) {
      const { servers } = await client.request('auth.list', {});
      if (ctx.args.json) ctx.out(JSON.stringify(servers, null, 2));
      else
        ctx.out(
          servers.length === 0
            ? 'No remote servers in the config.'
            : table(
                ['SERVER', 'SIGN-IN', 'SCOPE', 'URL'],
                servers.map((s) => [s.server, describe(s), s.scope ?? '-', s.url]),
              ),
        );
      return 0;
    }
    if (ctx.args.logout) {
      const { server } = await client.request('auth.logout', { server: name });
      ctx.out(`Signed out of ${name}; its tokens are forgotten. ${serverLine(server)}`);
      return 0;
    }
    const started = await client.request('auth.login', { server: name }, { timeoutMs: 60_000 });
    if (started.signedIn) {
      ctx.out(`Signed in to ${name} (the token was refreshed).`);
      return 0;
    }
    const url = started.authorizationUrl!;
    const opened = !ctx.args.noBrowser && openBrowser(url);
    ctx.err(
      opened
        ? `Opening your browser to sign in to ${name}. If it does not open, visit:`
        : `To sign in to ${name}, open this URL in a browser on this machine:`,
    );
    ctx.out(url);
    ctx.err('Waiting for the sign-in to finish (Ctrl-C gives up)…');
    const { server } = await client.request('auth.wait', { server: name }, { timeoutMs: WAIT_MS });
    ctx.err(`Signed in to ${name}. ${serverLine(server)}`);
    return server.state === 'running' ? 0 : 1;
  } finally {
    client.close();
  }
}
