/**
 * A history the Messages API takes: every `tool_use` answered by a `tool_result` in the next
 * message. A daemon killed during a tool call leaves a `tool_use` unanswered, and the API refuses
 * every later request of that session (400); a session is mended when it is loaded.
 */
import type { ContentBlockParam, MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';

export const UNFINISHED = 'mcpd stopped before this call finished (the daemon was stopped or killed); it was not run again.';

function blocks(message: MessageParam | undefined): ContentBlockParam[] {
  if (!message || typeof message.content === 'string') return [];
  return message.content;
}

/**
 * Closes every unanswered `tool_use` with an error `tool_result` (in place), first in the user
 * message that follows it, or in one of its own. Returns the names of the tools it closed.
 */
export function closeUnanswered(messages: MessageParam[]): string[] {
  const closed: string[] = [];
  for (let i = 0; i < messages.length; i += 1) {
    const message = messages[i]!;
    if (message.role !== 'assistant') continue;
    const uses = blocks(message).filter((b) => b.type === 'tool_use');
    if (uses.length === 0) continue;
    const next = messages[i + 1];
    const answered = new Set(
      blocks(next?.role === 'user' ? next : undefined).flatMap((b) => (b.type === 'tool_result' ? [b.tool_use_id] : [])),
    );
    const missing: ToolResultBlockParam[] = uses
      .filter((use) => !answered.has(use.id))
      .map((use) => {
        closed.push(use.name);
        return { type: 'tool_result', tool_use_id: use.id, is_error: true, content: [{ type: 'text', text: UNFINISHED }] };
      });
    if (missing.length === 0) continue;
    if (next?.role === 'user') {
      // Results go first in the message; what the person said after them stays after.
      const content = typeof next.content === 'string' ? [{ type: 'text' as const, text: next.content }] : next.content;
      next.content = [...missing, ...content];
    } else {
      messages.splice(i + 1, 0, { role: 'user', content: missing });
    }
  }
  return closed;
}
