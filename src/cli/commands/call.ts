import { ELICIT_REQUEST, SAMPLE_REQUEST, type CallToolResultJson, type SampleRequestParams } from '../../protocol/control.js';
import type { ElicitParams } from '../elicit-form.js';
import { McpdError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { connectOrStart } from './start.js';
import { parseJsonObject } from '../json-arg.js';
import { asText } from '../../util/text.js';

/** Prints a tool result the way a person reads it: text as is, other content described. */
export function renderContent(result: CallToolResultJson): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) {
    if (item.type === 'text') parts.push(String(item['text']));
    else if (item.type === 'image' || item.type === 'audio') {
      const bytes = Math.floor((asText(item['data']).length * 3) / 4);
      parts.push(`[${item.type}: ${String(item['mimeType'])}, ${bytes} bytes]`);
    } else if (item.type === 'resource') {
      const resource = item['resource'] as { uri?: string; text?: string; mimeType?: string };
      parts.push(
        resource.text !== undefined
          ? `[resource ${resource.uri}]\n${resource.text}`
          : `[resource ${resource.uri} (${resource.mimeType ?? 'binary'})]`,
      );
    } else if (item.type === 'resource_link') {
      parts.push(`[link ${asText(item['uri'])}${item['name'] ? ` "${asText(item['name'])}"` : ''}]`);
    } else parts.push(JSON.stringify(item));
  }
  if (parts.length === 0 && result.structuredContent) parts.push(JSON.stringify(result.structuredContent, null, 2));
  return parts.join('\n');
}

export async function callCommand(ctx: CliContext): Promise<number> {
  const [, tool, rawArgs, extra] = ctx.args.positionals;
  if (!tool || extra !== undefined)
    throw new McpdError('MCPD_USAGE', 'Usage: mcpd call TOOL [ARGS_JSON] [--json]. List tools with: mcpd tools');
  const args = parseJsonObject(rawArgs, `mcpd call everything__echo '{"message":"hi"}'`);
  const client = await connectOrStart(ctx);
  const abort = new AbortController();
  const onSigint = () => abort.abort(new McpdError('MCPD_CALL_CANCELLED', 'Cancelled (Ctrl-C).'));
  process.once('SIGINT', onSigint);
  // Progress as a live line on a terminal's stderr (one line per update elsewhere).
  const live = process.stderr.isTTY === true;
  let progressShown = false;
  client.on('call:progress', (p) => {
    const line = `[progress ${p.progress}${p.total !== undefined ? `/${p.total}` : ''}]${p.message ? ` ${p.message}` : ''}`;
    process.stderr.write(live ? `\r\x1b[2K${line}` : `${line}\n`);
    progressShown = true;
  });
  // The server may ask the person something during the call: on a terminal, they answer.
  client.handle(ELICIT_REQUEST, async (params, signal) => {
    const request = params as ElicitParams;
    if (!process.stdin.isTTY) {
      ctx.err(`The server asked: "${request.message}" — declined: no terminal to answer on.`);
      return { action: 'decline' };
    }
    if (progressShown && live) process.stderr.write('\r\x1b[2K');
    const { askOnTerminal } = await import('../elicit-form.js');
    return askOnTerminal(request, signal);
  });
  // The server asks to sample Claude (chat.sampling "ask"): the daemon asks Claude once the person says yes.
  client.handle(SAMPLE_REQUEST, async (params, signal) => {
    const request = params as SampleRequestParams;
    if (!process.stdin.isTTY) {
      ctx.err(
        `Server ${request.server} asked to sample Claude — declined: no terminal to approve it on (chat.sampling "allow" lets it through without asking).`,
      );
      return { decision: 'no' };
    }
    if (progressShown && live) process.stderr.write('\r\x1b[2K');
    const { confirmOnTerminal } = await import('../elicit-form.js');
    process.stderr.write(
      `\nServer ${request.server} asks Claude (up to ${request.maxTokens} tokens, on your API key):\n  ${request.preview}\n${request.systemPrompt ? `  (system prompt: ${request.systemPrompt.slice(0, 200)})\n` : ''}`,
    );
    return { decision: (await confirmOnTerminal('Allow? [y/N] ', signal)) ? 'yes' : 'no' };
  });
  try {
    const result = await client.request(
      'tools.call',
      {
        name: tool,
        progressToken: 'cli',
        canElicit: true,
        canSample: true,
        ...(args ? { arguments: args } : {}),
        ...(ctx.args.timeoutMs ? { timeoutMs: ctx.args.timeoutMs } : {}),
      },
      { signal: abort.signal },
    );
    if (progressShown && live) process.stderr.write('\r\x1b[2K');
    if (ctx.args.json) ctx.out(JSON.stringify(result, null, 2));
    else {
      const text = renderContent(result);
      if (result.isError) ctx.err(text === '' ? 'The tool returned an error.' : text);
      else if (text !== '') ctx.out(text);
    }
    return result.isError ? 1 : 0;
  } catch (error) {
    if (abort.signal.aborted) {
      ctx.err('Cancelled.');
      return 130;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
    client.close();
  }
}
