/** `mcpd tools [SERVER | TOOL]`: the merged catalogue, one server's part, or one tool in full. */
import { McpdError } from '../../errors.js';
import { plural } from '../color.js';
import type { CliContext } from '../context.js';
import { connectOrStart } from './start.js';
import { exampleArguments, firstLine, shellQuote, table } from '../format.js';
import { closestWord } from '../../util/suggest.js';

/** The Messages API's longest tool name, and the prefix Claude Code gives the tools of an entry. */
const API_NAME_LIMIT = 64;
const hostName = (entry: string, tool: string) => `mcp__${entry}__${tool}`;

/**
 * Names a host will make too long for the API: a merged name past the room Claude Code's
 * `mcp__mcpd__` leaves (a plugin renamed it, or gateway.maxNameLength was raised), and a
 * server's own name on /servers/NAME/mcp, where the host's prefix names that entry.
 */
export function hostNameWarnings(tools: readonly { name: string; server: string; originalName: string }[]): string[] {
  const warnings: string[] = [];
  for (const tool of tools) {
    const merged = hostName('mcpd', tool.name);
    if (merged.length > API_NAME_LIMIT)
      warnings.push(
        `"${tool.name}" becomes ${merged.length} characters as Claude Code names it (${merged}), over the API's ${API_NAME_LIMIT}.`,
      );
    const own = hostName(tool.server, tool.originalName);
    if (own.length > API_NAME_LIMIT)
      warnings.push(
        `on /servers/${tool.server}/mcp, "${tool.originalName}" becomes ${own.length} characters as a host names it (${own}), over ${API_NAME_LIMIT}: use the merged endpoint or the bridge, whose names fit.`,
      );
  }
  return warnings;
}

export async function toolsCommand(ctx: CliContext): Promise<number> {
  const name = ctx.args.positionals[1];
  const client = await connectOrStart(ctx);
  try {
    const { tools: all } = await client.request('tools.list', {});
    const tool = name === undefined ? undefined : all.find((t) => t.name === name);
    if (tool) {
      if (ctx.args.json) ctx.out(JSON.stringify(tool, null, 2));
      else {
        ctx.out(`${tool.name}  (server ${tool.server}, its own name "${tool.originalName}")`);
        if (tool.title) ctx.out(tool.title);
        if (tool.description) ctx.out(`\n${tool.description.trim()}`);
        if (tool.annotations && Object.keys(tool.annotations).length > 0) ctx.out(`\nannotations: ${JSON.stringify(tool.annotations)}`);
        ctx.out(`\ninput schema:\n${JSON.stringify(tool.inputSchema, null, 2)}`);
        if (tool.outputSchema) ctx.out(`\noutput schema:\n${JSON.stringify(tool.outputSchema, null, 2)}`);
        ctx.out(`\nCall it with: mcpd call ${tool.name} ${shellQuote(JSON.stringify(exampleArguments(tool.inputSchema)))}`);
      }
      return 0;
    }
    let tools = all;
    if (name !== undefined) {
      const { servers } = await client.request('servers.list', {});
      if (!servers.some((s) => s.name === name)) {
        const guess = closestWord(name, [...servers.map((s) => s.name), ...all.map((t) => t.name)]);
        throw new McpdError(
          'MCPD_SERVER_UNKNOWN',
          `No server or tool named "${name}".${guess ? ` Did you mean "${guess}"?` : ''} See: mcpd tools`,
        );
      }
      tools = all.filter((t) => t.server === name);
    }
    if (ctx.args.json) {
      ctx.out(JSON.stringify(tools, null, 2));
      return 0;
    }
    if (tools.length === 0) {
      ctx.out(
        name === undefined ? 'No tools: no server is running yet (see: mcpd status).' : `Server "${name}" has no tools (see: mcpd status).`,
      );
      return 0;
    }
    ctx.out(
      table(
        ['TOOL', 'SERVER', 'DESCRIPTION'],
        tools.map((t) => [t.name, t.server, firstLine(t.description)]),
      ),
    );
    ctx.out(`\n${plural(tools.length, 'tool')}. One in full: mcpd tools TOOL. Call one: mcpd call TOOL '{"arg": "value"}'`);
    for (const warning of hostNameWarnings(tools)) ctx.err(`warning: ${warning}`);
    return 0;
  } finally {
    client.close();
  }
}
