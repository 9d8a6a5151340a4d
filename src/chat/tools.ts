/**
 * The catalogue as Claude's tool list, with a cache breakpoint after the tools that are always
 * sent. With tool search (`chat.toolSearch`), the Messages API's own search tool comes first and
 * every tool but the pinned ones is sent deferred (`defer_loading`): Claude sees their
 * definitions only once a search finds them, so a big catalogue does not fill its context.
 */
import type { Tool, ToolSearchToolBm25_20251119, ToolUnion } from '@anthropic-ai/sdk/resources/messages';
import type { ChatConfig } from '../config/types.js';
import type { ToolEntry } from '../protocol/types.js';
import { matchesAny } from '../util/glob.js';

/**
 * `chat.toolSearch: "auto"` turns search on past either bound: tool selection degrades past
 * 30–50 tools (Anthropic's guidance), and 40 000 bytes of definitions is about 10 000 tokens.
 */
export const AUTO_SEARCH_TOOLS = 30;
export const AUTO_SEARCH_BYTES = 40_000;

export const SEARCH_TOOL: ToolSearchToolBm25_20251119 = { type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' };

function toClaudeTool(entry: ToolEntry): Tool {
  const schema = entry.inputSchema as { properties?: Record<string, unknown> | null; required?: string[] | null };
  return {
    name: entry.name,
    ...(entry.description ? { description: entry.description } : {}),
    input_schema: { ...entry.inputSchema, type: 'object', properties: schema.properties ?? null, required: schema.required ?? null },
  };
}

/** Whether this chat sends its tools deferred behind the search tool. */
export function usesToolSearch(chat: Pick<ChatConfig, 'toolSearch'>, tools: readonly Tool[]): boolean {
  const setting = chat.toolSearch ?? 'auto';
  if (setting !== 'auto') return setting;
  return tools.length > AUTO_SEARCH_TOOLS || JSON.stringify(tools).length > AUTO_SEARCH_BYTES;
}

export function toClaudeTools(entries: readonly ToolEntry[], chat: Pick<ChatConfig, 'toolSearch' | 'pinnedTools'> = {}): ToolUnion[] {
  const tools = entries.map(toClaudeTool);
  if (tools.length === 0) return [];
  if (!usesToolSearch(chat, tools)) {
    // Tools come first in the prompt: caching them (with the system prompt after) is the big saving.
    tools.at(-1)!.cache_control = { type: 'ephemeral' };
    return tools;
  }
  const pinned = chat.pinnedTools ?? [];
  const kept = tools.filter((t) => matchesAny(t.name, pinned));
  const deferred = tools.filter((t) => !matchesAny(t.name, pinned)).map((t) => ({ ...t, defer_loading: true }));
  // The breakpoint goes on the last tool always sent; deferred ones are not part of the prefix.
  const always: ToolUnion[] = [{ ...SEARCH_TOOL }, ...kept];
  always.at(-1)!.cache_control = { type: 'ephemeral' };
  return [...always, ...deferred];
}
