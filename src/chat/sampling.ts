/**
 * A server's `sampling/createMessage`, answered with Claude: the MCP request becomes a Messages
 * API request, the answer an MCP `CreateMessageResult`. Who may sample, and whether a person is
 * asked first, is `chat.sampling` (see `samplingRule`); the callers (chat, `mcpd call`) ask.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, ImageBlockParam, Message, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { CreateMessageRequest, CreateMessageResult } from '@modelcontextprotocol/sdk/types.js';
import type { ChatConfig, SamplingRule } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logs/store.js';
import type { SampleRequestParams } from '../protocol/control.js';
import { JsonRpcError } from '../protocol/jsonrpc.js';
import type { TokenUsage } from '../protocol/types.js';
import type { ApprovalDecision } from '../protocol/types.js';
import { chatError, DEFAULT_MAX_TOKENS, DEFAULT_MODEL, isAbort } from './anthropic.js';

export type SamplingParams = CreateMessageRequest['params'];

/** JSON-RPC code the MCP spec gives for "the user rejected the sampling request". */
export const USER_REJECTED = -1;

/** A refusal the server's SDK turns into a JSON-RPC error with this code and message. */
export function samplingRefusal(message: string, code = USER_REJECTED): JsonRpcError {
  return new JsonRpcError(code, message);
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

/** The question put to a person before a server's sampling request goes to Claude. */
export function samplingQuestion(server: string, tool: string, params: SamplingParams): SampleRequestParams {
  return {
    server,
    tool,
    preview: samplingPreview(params),
    ...(params.systemPrompt ? { systemPrompt: params.systemPrompt } : {}),
    maxTokens: params.maxTokens,
  };
}

export interface SampleOptions {
  server: string;
  model?: string | undefined;
  signal: AbortSignal;
  /** Puts the request to a person (chat.sampling "ask"): null when nobody answered. */
  ask?: (() => Promise<ApprovalDecision | null>) | undefined;
  config: ChatConfig;
  client: () => Promise<Anthropic>;
  log: Logger;
}

/**
 * A server's sampling request under chat.sampling: refused (`deny`), put to the person first
 * (`ask`, through `ask`; refused when there is nobody to ask), then answered with Claude.
 */
export async function sampleUnderRule(params: SamplingParams, options: SampleOptions): Promise<SampledAnswer> {
  const { config } = options;
  const rule = samplingRule(config);
  const declined = `mcpd declined the sampling request of server "${options.server}"`;
  if (rule === 'deny') throw samplingRefusal(`${declined}: its config forbids sampling (chat.sampling is "deny")`);
  if (rule === 'ask') {
    if (!options.ask) {
      throw samplingRefusal(
        `${declined}: it needs a person's approval (chat.sampling is "ask") and nobody can answer here; set chat.sampling to "allow" to sample without asking`,
      );
    }
    const decision = await options.ask();
    if (decision === null) throw samplingRefusal(`${declined}: nobody answered`);
    if (decision === 'no') throw samplingRefusal(`${declined}: the user declined it`);
  }
  let anthropic: Anthropic;
  try {
    anthropic = await options.client();
  } catch (error) {
    throw samplingRefusal(`${declined}: ${errorMessage(error)}`, -32603);
  }
  const model = options.model ?? config.model ?? DEFAULT_MODEL;
  const answer = await sampleWithClaude(anthropic, params, model, config.maxTokens ?? DEFAULT_MAX_TOKENS, options.signal);
  options.log.info(`server ${options.server} sampled ${model}: ${answer.usage.inputTokens} in / ${answer.usage.outputTokens} out tokens`);
  return answer;
}
