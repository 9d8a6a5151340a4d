/**
 * `mcpd init [--config F]`: writes a config to start from, with comments: by default the user's
 * ($XDG_CONFIG_HOME/mcpd/mcp.config.json), found from any folder. Never overwrites one.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { userConfigFile } from '../../config/locate.js';
import { McpdError } from '../../errors.js';
import type { CliContext } from '../context.js';

export const EXAMPLE_CONFIG = `// mcpd's config: the MCP servers it runs for you. JSON with comments.
// Reference: the README's "Config reference". Check it with: mcpd config check
{
  "servers": {
    // A local server: a command mcpd starts, supervises and restarts.
    "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },

    // A remote server (Streamable HTTP; "type": "sse" for legacy SSE). If it wants OAuth:
    //   mcpd auth linear
    // "linear": { "url": "https://mcp.linear.app/mcp" },

    // Secrets come from the environment: "env": { "GITHUB_TOKEN": "\${GITHUB_TOKEN}" }
  },

  // Chat with Claude over every server's tools (needs ANTHROPIC_API_KEY): mcpd chat
  // "chat": { "model": "claude-sonnet-5-5", "approval": { "ask": ["*write*", "*delete*"] } },

  // MCP over HTTP for hosts that take a URL (mcpd bridge needs nothing here):
  // "gateway": { "http": { "port": 7331 } },
}
`;

export async function initCommand(ctx: CliContext): Promise<number> {
  if (ctx.args.positionals.length > 1) throw new McpdError('MCPD_USAGE', 'Usage: mcpd init [--config FILE]');
  const file = ctx.args.config ? resolve(ctx.args.config) : userConfigFile();
  if (existsSync(file)) {
    ctx.err(`${file} exists already; mcpd init leaves it as it is. Edit it, or check it with: mcpd config check ${file}`);
    return 1;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, EXAMPLE_CONFIG, { flag: 'wx' });
  ctx.out(`Wrote ${file}.\nIt is found from any folder without a config of its own. Next: mcpd start`);
  return 0;
}
