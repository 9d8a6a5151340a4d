/** `mcpd tools [SERVER | TOOL]`: the merged catalogue, one server's part, or one tool in full. */
import { McpdError } from '../../errors.js';
import { plural } from '../color.js';
import type { CliContext } from '../context.js';
import { connectOrStart } from './start.js';
import { appNote, exampleArguments, firstLine, shellQuote, table } from '../format.js';
import { closestWord } from '../../util/suggest.js';
import { hostNameWarnings } from '../host-names.js';

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
        const app = appNote(tool);
        if (app === 'has an App') ctx.out('\nIt has an MCP App: a call of it prints the link that shows it (mcpd ui shows it too).');
        if (app === 'for its App only') ctx.out("\nIt is for its server's MCP App only: no model sees it, and only that App may call it.");
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
        tools.map((t) => {
          const app = appNote(t);
          return [t.name, t.server, `${app ? `[${app}] ` : ''}${firstLine(t.description)}`];
        }),
      ),
    );
    ctx.out(`\n${plural(tools.length, 'tool')}. One in full: mcpd tools TOOL. Call one: mcpd call TOOL '{"arg": "value"}'`);
    for (const warning of hostNameWarnings(tools)) ctx.err(`warning: ${warning}`);
    return 0;
  } finally {
    client.close();
  }
}
