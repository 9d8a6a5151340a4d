/**
 * An MCP tool result as Claude's tool_result: content converted with the SDK's MCP helper
 * (images stay images, embedded resources become documents), what Claude cannot take described
 * in text, and text past a limit cut with a clear marker (the full text kept in a file).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { mcpContent, type MCPPromptContentLike } from '@anthropic-ai/sdk/helpers/beta/mcp';
import type { CallToolResultJson } from '../protocol/calls.js';
import { errorMessage } from '../errors.js';
import { writeFileAtomic } from '../util/files.js';
import { asText } from '../util/text.js';

export const DEFAULT_MAX_TOOL_RESULT_CHARS = 100_000;

type Block = Exclude<ToolResultBlockParam['content'], string | undefined>[number];

export interface ConvertedResult {
  block: ToolResultBlockParam;
  ok: boolean;
  /** One line for the person watching. */
  summary: string;
  truncated: boolean;
}

function describe(item: Record<string, unknown> & { type: string }): string {
  if (item.type === 'resource_link') return `[resource link: ${asText(item['uri'])}${item['name'] ? ` (${asText(item['name'])})` : ''}]`;
  if (item.type === 'audio') return `[audio ${String(item['mimeType'])}: Claude cannot listen to it]`;
  if (item.type === 'resource') {
    const r = item['resource'] as { uri?: string; mimeType?: string };
    return `[resource ${r.uri ?? ''} (${r.mimeType ?? 'unknown type'}): not a type Claude can read]`;
  }
  if (item.type === 'image') return `[image ${String(item['mimeType'])}: not a type Claude can see]`;
  return `[${item.type} content]`;
}

function convertItem(item: Record<string, unknown> & { type: string }): Block {
  try {
    // mcpContent tags blocks with a symbol-keyed marker; spreading keeps only what is sent.
    return { ...(mcpContent(item as unknown as MCPPromptContentLike) as Block) };
  } catch {
    return { type: 'text', text: describe(item) };
  }
}

export interface ConvertOptions {
  toolUseId: string;
  maxChars: number;
  /** Where the full text goes when it is cut. */
  fullTextPath: string;
}

export function convertToolResult(result: CallToolResultJson, options: ConvertOptions): ConvertedResult {
  let items = result.content ?? [];
  if (items.length === 0 && result.structuredContent) items = [{ type: 'text', text: JSON.stringify(result.structuredContent) }];
  let blocks = items.map(convertItem);
  const textOf = (b: Block) => (b.type === 'text' ? b.text : '');
  const totalText = blocks.reduce((n, b) => n + textOf(b).length, 0);
  let truncated = false;
  if (totalText > options.maxChars) {
    truncated = true;
    const full = blocks.map(textOf).filter(Boolean).join('\n');
    // The call succeeded: a full text that cannot be kept (a full disk) is said, not an error.
    let kept: string | undefined;
    try {
      mkdirSync(dirname(options.fullTextPath), { recursive: true, mode: 0o700 });
      writeFileAtomic(options.fullTextPath, full);
    } catch (error) {
      kept = errorMessage(error);
    }
    let budget = options.maxChars;
    blocks = blocks.flatMap((b): Block[] => {
      if (b.type !== 'text') return [b];
      if (budget <= 0) return [];
      const kept = b.text.slice(0, budget);
      budget -= kept.length;
      return [{ ...b, text: kept }];
    });
    blocks.push({
      type: 'text',
      text: `[… truncated by mcpd: the result had ${totalText} characters of text, ${totalText - options.maxChars} more than the limit of ${options.maxChars}. ${kept === undefined ? `The full text is in ${options.fullTextPath}` : `The full text could not be kept (${kept})`}]`,
    });
  }
  if (blocks.length === 0)
    blocks = [{ type: 'text', text: result.isError ? 'The tool failed and said nothing.' : '(the tool returned no content)' }];
  const first = blocks[0]!;
  const summaryText = first.type === 'text' ? first.text : first.type === 'image' ? '[image]' : `[${first.type}]`;
  const summary = summaryText.split('\n')[0]!.slice(0, 100);
  return {
    block: { type: 'tool_result', tool_use_id: options.toolUseId, content: blocks, ...(result.isError ? { is_error: true } : {}) },
    ok: !result.isError,
    summary,
    truncated,
  };
}

/** A tool_result for a call that did not run or did not finish (denied, failed, cancelled). */
export function errorResult(toolUseId: string, text: string): ToolResultBlockParam {
  return { type: 'tool_result', tool_use_id: toolUseId, content: [{ type: 'text', text }], is_error: true };
}
