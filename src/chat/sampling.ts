/**
 * A server's `sampling/createMessage`, answered with Claude: the MCP request becomes a Messages
 * API request, the answer an MCP `CreateMessageResult`. Who may sample, and whether a person is
 * asked first, is `chat.sampling` (see `samplingRule`); the callers (chat, `mcpd call`) ask.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, ImageBlockParam, Message, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { CreateMessageRequest, CreateMessageResult } from '@modelcontextprotocol/sdk/types.js';
import type { ChatConfig, SamplingRule } from '../config/types.js';
import type { TokenUsage } from '../protocol/types.js';
import { chatError, isAbort } from './anthropic.js';

export type SamplingParams = CreateMessageRequest['params'];

/** JSON-RPC code the MCP spec gives for "the user rejected the sampling request". */
export const USER_REJECTED = -1;

/**
 * A refusal the server's SDK turns into a JSON-RPC error with this code and message. A plain
 * Error (not an McpError) so the message does not get a second "MCP error N:" prefix.
 */
export function samplingRefusal(message: string, code = USER_REJECTED): Error {
  return Object.assign(new Error(message), { code });
}

export function samplingRule(config: ChatConfig): SamplingRule {
  return config.sampling ?? 'ask';
}

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

function contentBlocks(content: SamplingParams['messages'][number]['content']): ContentBlockParam[] {
  const blocks = Array.isArray(content) ? content : [content];
  return blocks.map((block): ContentBlockParam => {
    if (block.type === 'text') return { type: 'text', text: block.text };
    if (block.type === 'image') {
      if (!IMAGE_TYPES.has(block.mimeType))
        throw samplingRefusal(
          `mcpd cannot sample with an image of type ${block.mimeType}: Claude takes ${[...IMAGE_TYPES].join(', ')}`,
          -32602,
        );
      return {
        type: 'image',
        source: { type: 'base64', media_type: block.mimeType as 'image/png', data: block.data },
      } satisfies ImageBlockParam;
    }
    throw samplingRefusal(`mcpd cannot sample with ${block.type} content: Claude takes text and images`, -32602);
  });
}

/** The Messages API request for a sampling request. */
export function toMessagesRequest(params: SamplingParams, model: string, maxTokensCap: number): Anthropic.MessageCreateParamsNonStreaming {
  if (params.tools !== undefined || params.toolChoice !== undefined) {
    throw samplingRefusal('mcpd does not offer sampling with tools (it does not declare sampling.tools)', -32602);
  }
  const messages: MessageParam[] = params.messages.map((m) => ({ role: m.role, content: contentBlocks(m.content) }));
  if (messages.length === 0) throw samplingRefusal('the sampling request has no messages', -32602);
  return {
    model,
    // The server asks for at most maxTokens; the person's chat.maxTokens caps it.
    max_tokens: Math.max(1, Math.min(params.maxTokens, maxTokensCap)),
    messages,
    ...(params.systemPrompt ? { system: params.systemPrompt } : {}),
    ...(params.temperature !== undefined ? { temperature: Math.min(1, Math.max(0, params.temperature)) } : {}),
    ...(params.stopSequences?.length ? { stop_sequences: params.stopSequences } : {}),
  };
}

function stopReasonOf(reason: Message['stop_reason']): string {
  if (reason === 'end_turn') return 'endTurn';
  if (reason === 'max_tokens') return 'maxTokens';
  if (reason === 'stop_sequence') return 'stopSequence';
  return reason ?? 'endTurn';
}

export interface SampledAnswer {
  result: CreateMessageResult;
  usage: TokenUsage;
}

/** Asks Claude; the answer's text blocks become the one text content MCP's result holds. */
export async function sampleWithClaude(
  anthropic: Anthropic,
  params: SamplingParams,
  model: string,
  maxTokensCap: number,
  signal: AbortSignal,
): Promise<SampledAnswer> {
  const request = toMessagesRequest(params, model, maxTokensCap);
  let message: Message;
  try {
    message = await anthropic.messages.create(request, { signal });
  } catch (error) {
    if (signal.aborted || isAbort(error)) throw error;
    // The server gets what went wrong (not the key); the person sees it in the log.
    throw samplingRefusal(`sampling failed: ${chatError(error, 1).message}`, -32603);
  }
  const text = message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
  return {
    result: { role: 'assistant', content: { type: 'text', text }, model: message.model, stopReason: stopReasonOf(message.stop_reason) },
    usage: {
      inputTokens: message.usage.input_tokens ?? 0,
      outputTokens: message.usage.output_tokens ?? 0,
      cacheCreationInputTokens: message.usage.cache_creation_input_tokens ?? 0,
      cacheReadInputTokens: message.usage.cache_read_input_tokens ?? 0,
    },
  };
}

/** What a person is shown before approving: the request's last message, shortened. */
export function samplingPreview(params: SamplingParams, max = 300): string {
  const last = params.messages.at(-1);
  const blocks = last ? (Array.isArray(last.content) ? last.content : [last.content]) : [];
  const text = blocks
    .map((b) => (b.type === 'text' ? b.text : `[${b.type}]`))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
