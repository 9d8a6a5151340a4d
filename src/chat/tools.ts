/** The catalogue as Claude's tool list, with a cache breakpoint after the last tool. */
import type { Tool } from '@anthropic-ai/sdk/resources/messages';
import type { ToolEntry } from '../protocol/types.js';

export function toClaudeTools(entries: readonly ToolEntry[]): Tool[] {
  const tools = entries.map((entry): Tool => {
    const schema = entry.inputSchema as { properties?: Record<string, unknown> | null; required?: string[] | null };
    return {
      name: entry.name,
      ...(entry.description ? { description: entry.description } : {}),
      input_schema: { ...entry.inputSchema, type: 'object', properties: schema.properties ?? null, required: schema.required ?? null },
    };
  });
  // Tools come first in the prompt: caching them (with the system prompt after) is the big saving.
  const last = tools.at(-1);
  if (last) last.cache_control = { type: 'ephemeral' };
  return tools;
}
