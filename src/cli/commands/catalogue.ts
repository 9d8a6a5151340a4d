/**
 * Resources and prompts from the command line: `mcpd resources [SERVER]`, `mcpd resource read
 * URI [--server S]`, `mcpd prompts [SERVER]`, `mcpd prompt get NAME [ARGS_JSON]`.
 */
import { McpdError } from '../../errors.js';
import { plural } from '../color.js';
import { connectDaemon, type CliContext } from '../context.js';
import { firstLine, table } from '../format.js';
import { parseJsonObject } from '../json-arg.js';
import { asText } from '../../util/text.js';

/** Message or resource contents as a person reads them: text as is, the rest described. */
function renderContents(contents: Array<Record<string, unknown>>): string {
  return contents
    .map((c) => {
      if (typeof c['text'] === 'string') return c['text'];
      const bytes = Math.floor((asText(c['blob'] ?? c['data']).length * 3) / 4);
      return `[${asText(c['mimeType'], 'binary')}, ${bytes} bytes${c['uri'] ? `, ${asText(c['uri'])}` : ''}]`;
    })
    .join('\n');
}

export async function resourcesCommand(ctx: CliContext): Promise<number> {
  const server = ctx.args.positionals[1];
  const client = await connectDaemon(ctx);
  try {
    const { resources } = await client.request('resources.list', server ? { server } : {});
    if (ctx.args.json) ctx.out(JSON.stringify(resources, null, 2));
    else if (resources.length === 0) ctx.out(server ? `Server "${server}" lists no resources.` : 'No resources (see: mcpd status).');
    else {
      ctx.out(
        table(
          ['URI', 'SERVER', 'NAME', 'TYPE'],
          resources.map((r) => [r.uri, r.server, firstLine(r.title ?? r.name, 40), r.mimeType ?? '-']),
        ),
      );
      ctx.out(`\n${plural(resources.length, 'resource')}. Read one: mcpd resource read URI`);
    }
    return 0;
  } finally {
    client.close();
  }
}

export async function resourceCommand(ctx: CliContext): Promise<number> {
  const [, action, uri] = ctx.args.positionals;
  if (action !== 'read' || !uri) throw new McpdError('MCPD_USAGE', 'Usage: mcpd resource read URI [--server S] [--json]');
  const client = await connectDaemon(ctx);
  try {
    const result = await client.request('resources.read', { uri, ...(ctx.args.server ? { server: ctx.args.server } : {}) });
    ctx.out(ctx.args.json ? JSON.stringify(result, null, 2) : renderContents(result.contents));
    return 0;
  } finally {
    client.close();
  }
}

export async function promptsCommand(ctx: CliContext): Promise<number> {
  const server = ctx.args.positionals[1];
  const client = await connectDaemon(ctx);
  try {
    const { prompts } = await client.request('prompts.list', server ? { server } : {});
    if (ctx.args.json) ctx.out(JSON.stringify(prompts, null, 2));
    else if (prompts.length === 0) ctx.out(server ? `Server "${server}" has no prompts.` : 'No prompts (see: mcpd status).');
    else {
      const args = (p: (typeof prompts)[number]) => (p.arguments ?? []).map((a) => `${a.name}${a.required ? '' : '?'}`).join(', ') || '-';
      ctx.out(
        table(
          ['PROMPT', 'SERVER', 'ARGUMENTS', 'DESCRIPTION'],
          prompts.map((p) => [p.name, p.server, args(p), firstLine(p.description, 60)]),
        ),
      );
      ctx.out(`\n${plural(prompts.length, 'prompt')}. Get one: mcpd prompt get NAME '{"arg": "value"}'`);
    }
    return 0;
  } finally {
    client.close();
  }
}

export async function promptCommand(ctx: CliContext): Promise<number> {
  const [, action, name, rawArgs] = ctx.args.positionals;
  if (action !== 'get' || !name)
    throw new McpdError(
      'MCPD_USAGE',
      "Usage: mcpd prompt get NAME [ARGS_JSON] [--json], e.g. mcpd prompt get everything__simple-prompt '{}'",
    );
  const given = parseJsonObject(rawArgs, `mcpd prompt get ${name} '{"name":"value"}'`);
  // Prompt arguments are strings: other values are passed as their JSON.
  const args = given && Object.fromEntries(Object.entries(given).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const client = await connectDaemon(ctx);
  try {
    const result = await client.request('prompts.get', { name, ...(args ? { arguments: args } : {}) });
    if (ctx.args.json) ctx.out(JSON.stringify(result, null, 2));
    else {
      if (result.description) ctx.out(`${result.description}\n`);
      for (const message of result.messages as Array<{ role: string; content: Record<string, unknown> }>) {
        const content =
          message.content['type'] === 'resource'
            ? renderContents([message.content['resource'] as Record<string, unknown>])
            : renderContents([message.content]);
        ctx.out(`${message.role}: ${content}`);
      }
    }
    return 0;
  } finally {
    client.close();
  }
}
