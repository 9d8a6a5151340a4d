/**
 * One chat turn: the agent loop. Claude gets the catalogue; every tool_use of a response runs
 * concurrently through the daemon's router; results go back as tool_result; repeat until Claude
 * ends the turn or `maxSteps` requests were made. Cancellation stops the API request and every
 * running call, and leaves a history the API will accept next time.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlock,
  ContentBlockParam,
  Message,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';
import type { ChatConfig } from '../config/types.js';
import type { CallToolResultJson } from '../protocol/control.js';
import { McpdError, errorMessage, isMcpdError } from '../errors.js';
import type { ApprovalDecision, ChatEvent, ChatTurnResult, ErrorInfo, StopReason, TokenUsage, ToolEntry } from '../protocol/types.js';
import { delay } from '../util/time.js';
import { DEFAULT_MAX_STEPS, DEFAULT_MAX_TOKENS, chatError, isAbort, isRetryable, retryAfterMs } from './anthropic.js';
import { approvalFor } from './approval.js';
import { convertToolResult, DEFAULT_MAX_TOOL_RESULT_CHARS, errorResult } from './results.js';
import { addUsage, type ChatSession, ZERO_USAGE } from './session-store.js';
import { toClaudeTools } from './tools.js';

export const MAX_ATTEMPTS = 4;
const MAX_RETRY_WAIT_MS = 60_000;

type EventBody<T> = T extends ChatEvent ? Omit<T, 'sessionId' | 'turnId'> : never;

export interface TurnDeps {
  /** The client, once its SDK is loaded. */
  anthropic: Promise<Anthropic>;
  chat: ChatConfig;
  tools: () => ToolEntry[];
  /** The servers' own instructions, merged: they go into the system prompt (cached). */
  instructions: () => string | undefined;
  callTool: (
    name: string,
    input: Record<string, unknown>,
    signal: AbortSignal,
    onProgress: (progress: ToolProgress) => void,
    onAppView: (view: string) => void,
  ) => Promise<CallToolResultJson>;
  /** The dashboard link to a call's App view. */
  appLink?: (view: string) => Promise<string>;
  /** Asks the person; null when nobody can answer. */
  approve: (request: { requestId: string; name: string; input: unknown }) => Promise<ApprovalDecision | null>;
  emit: (event: ChatEvent) => void;
  save: () => void;
  toolResultPath: (toolUseId: string) => string;
  /** Called with each text delta too, so attachers can be given the text so far. */
  onText?: (text: string) => void;
}

function usageOf(message: Pick<Message, 'usage'>): TokenUsage {
  const u = message.usage;
  return {
    inputTokens: u.input_tokens ?? 0,
    outputTokens: u.output_tokens ?? 0,
    cacheCreationInputTokens: u.cache_creation_input_tokens ?? 0,
    cacheReadInputTokens: u.cache_read_input_tokens ?? 0,
  };
}

/** Appends the prompt; after a failed or cancelled turn the history may end with a user message, so merge. */
function appendUser(messages: MessageParam[], prompt: string): void {
  const block: TextBlockParam = { type: 'text', text: prompt };
  const last = messages.at(-1);
  if (last?.role === 'user') {
    last.content = [...(typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : last.content), block];
  } else {
    messages.push({ role: 'user', content: [block] });
  }
}

/** A copy of the history with a cache breakpoint on its last block: the conversation prefix is cached. */
export function withCacheBreakpoint(messages: MessageParam[]): MessageParam[] {
  const copy = messages.map((m) => ({ ...m }));
  for (let i = copy.length - 1; i >= 0; i -= 1) {
    const message = copy[i]!;
    if (typeof message.content === 'string') {
      message.content = [{ type: 'text', text: message.content, cache_control: { type: 'ephemeral' } }];
      return copy;
    }
    const blocks = [...message.content];
    for (let j = blocks.length - 1; j >= 0; j -= 1) {
      const block = blocks[j]!;
      if (
        block.type === 'text' ||
        block.type === 'image' ||
        block.type === 'tool_result' ||
        block.type === 'tool_use' ||
        block.type === 'document'
      ) {
        blocks[j] = { ...block, cache_control: { type: 'ephemeral' } };
        message.content = blocks;
        return copy;
      }
    }
  }
  return copy;
}

function toParam(block: ContentBlock): ContentBlockParam {
  // Response blocks carry fields requests refuse (citations: null on text, for one).
  if (block.type === 'text') return { type: 'text', text: block.text };
  if (block.type === 'tool_use') return { type: 'tool_use', id: block.id, name: block.name, input: block.input };
  return block;
}

/** The API's tool searches in a response: what Claude searched for, and the tools it found. */
function searchesOf(content: ContentBlock[]): { id: string; query: string; found: string[] }[] {
  const searches: { id: string; query: string; found: string[] }[] = [];
  for (const block of content) {
    if (block.type !== 'server_tool_use' || !block.name.startsWith('tool_search')) continue;
    const input = (block.input ?? {}) as { query?: unknown; pattern?: unknown };
    const result = content.find((b) => b.type === 'tool_search_tool_result' && b.tool_use_id === block.id);
    const found =
      result?.type === 'tool_search_tool_result' && result.content.type === 'tool_search_tool_search_result'
        ? result.content.tool_references.map((r) => r.tool_name)
        : [];
    const query = typeof input.query === 'string' ? input.query : typeof input.pattern === 'string' ? input.pattern : '';
    searches.push({ id: block.id, query, found });
  }
  return searches;
}

function mapStop(reason: Message['stop_reason']): StopReason {
  if (reason === 'max_tokens') return 'max_tokens';
  if (reason === 'refusal') return 'refusal';
  return 'end_turn';
}

/** Who stopped the turn: the person, or the daemon stopping. */
function cancelledBy(signal: AbortSignal): string {
  return isMcpdError(signal.reason, 'MCPD_CLOSED') ? 'Stopped because the daemon is stopping,' : 'Cancelled by the user';
}

/** What a server reports of a running call. */
export interface ToolProgress {
  progress: number;
  total?: number;
  message?: string;
}

export async function runTurn(
  session: ChatSession,
  turnId: string,
  prompt: string,
  deps: TurnDeps,
  signal: AbortSignal,
): Promise<ChatTurnResult> {
  const emit = (body: EventBody<ChatEvent>) => deps.emit({ ...body, sessionId: session.id, turnId });
  const maxSteps = deps.chat.maxSteps ?? DEFAULT_MAX_STEPS;
  const startedAt = new Date().toISOString();
  let usage: TokenUsage = { ...ZERO_USAGE };
  let steps = 0;
  let text = '';
  let stopReason: StopReason = 'end_turn';
  let error: McpdError | undefined;

  if (!session.title) session.title = prompt.replace(/\s+/g, ' ').slice(0, 60);
  appendUser(session.messages, prompt);
  deps.save();
  emit({ type: 'turn_start', model: session.model, prompt });

  try {
    for (;;) {
      if (steps >= maxSteps) {
        stopReason = 'max_steps';
        emit({ type: 'notice', message: `Stopped after ${maxSteps} steps (chat.maxSteps). Say "continue" to go on.` });
        break;
      }
      steps += 1;
      const message = await streamStep(
        session,
        deps,
        signal,
        (delta) => {
          text += delta;
          emit({ type: 'text', text: delta });
        },
        (notice) => emit({ type: 'notice', message: notice }),
      );
      usage = addUsage(usage, usageOf(message));
      for (const search of searchesOf(message.content)) emit({ type: 'tool_search', ...search });
      emit({ type: 'step_end', step: steps, usage: usageOf(message) });
      const toolUses = message.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      const wantsTools = message.stop_reason === 'tool_use' && toolUses.length > 0;
      // A tool_use cut off by max_tokens has no result to pair with: keep only the rest.
      const kept = message.content.filter((b) => wantsTools || b.type !== 'tool_use').map(toParam);
      if (kept.length > 0) session.messages.push({ role: 'assistant', content: kept });
      deps.save();
      // The API paused a long turn of its own tools (tool search): the same request goes on.
      if (message.stop_reason === 'pause_turn') continue;
      if (!wantsTools) {
        stopReason = mapStop(message.stop_reason);
        break;
      }
      const results = await runTools(session, toolUses, deps, signal, emit);
      session.messages.push({ role: 'user', content: results });
      deps.save();
      if (signal.aborted) {
        if (isMcpdError(signal.reason, 'MCPD_CLOSED')) {
          stopReason = 'error';
          error = signal.reason;
        } else stopReason = 'cancelled';
        break;
      }
      text += text && !text.endsWith('\n') ? '\n' : '';
    }
  } catch (caught) {
    if (isMcpdError(signal.reason, 'MCPD_CLOSED')) {
      // Not the person's doing: an error they are told about, not a cancel.
      stopReason = 'error';
      error = signal.reason;
    } else if (signal.aborted || isAbort(caught)) {
      stopReason = 'cancelled';
    } else {
      stopReason = 'error';
      error = caught instanceof McpdError ? caught : chatError(caught, 1);
    }
  }

  session.usage = addUsage(session.usage, usage);
  session.turns.push({ id: turnId, startedAt, stopReason, steps, usage, ...(error ? { error: error.message } : {}) });
  deps.save();
  const errorInfo: ErrorInfo | undefined = error ? { code: error.code, message: error.message } : undefined;
  emit({ type: 'turn_end', stopReason, steps, usage, sessionUsage: session.usage, ...(errorInfo ? { error: errorInfo } : {}) });
  return {
    sessionId: session.id,
    turnId,
    stopReason,
    text,
    steps,
    usage,
    sessionUsage: session.usage,
    ...(errorInfo ? { error: errorInfo } : {}),
  };
}

/** One request, streamed. Retries rate limits, overload and network errors until text has flowed. */
async function streamStep(
  session: ChatSession,
  deps: TurnDeps,
  signal: AbortSignal,
  onText: (delta: string) => void,
  onNotice: (message: string) => void,
): Promise<Message> {
  // A tool the approval rules forbid is not offered at all.
  const tools = toClaudeTools(
    deps.tools().filter((t) => approvalFor(t.name, deps.chat.approval, []) !== 'deny'),
    deps.chat,
  );
  // The person's system prompt, then what the servers say of their own use; cached as one prefix.
  const texts = [deps.chat.system, deps.instructions()].filter((text): text is string => Boolean(text));
  const system =
    texts.length > 0
      ? texts.map((text, i) => ({
          type: 'text' as const,
          text,
          ...(i === texts.length - 1 ? { cache_control: { type: 'ephemeral' as const } } : {}),
        }))
      : undefined;
  const params = {
    model: session.model,
    max_tokens: deps.chat.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages: withCacheBreakpoint(session.messages),
    ...(tools.length > 0 ? { tools } : {}),
    ...(system ? { system } : {}),
  };
  for (let attempt = 1; ; attempt += 1) {
    let partial = '';
    try {
      const stream = (await deps.anthropic).messages.stream(params, { signal });
      stream.on('text', (delta) => {
        partial += delta;
        deps.onText?.(delta);
        onText(delta);
      });
      return await stream.finalMessage();
    } catch (caught) {
      if (signal.aborted || isAbort(caught)) {
        // Keep what the person already saw.
        if (partial) session.messages.push({ role: 'assistant', content: [{ type: 'text', text: partial }] });
        throw caught;
      }
      if (partial !== '' || !isRetryable(caught) || attempt >= MAX_ATTEMPTS) throw chatError(caught, attempt);
      const wait = Math.min(retryAfterMs(caught) ?? 500 * 2 ** (attempt - 1), MAX_RETRY_WAIT_MS);
      onNotice(
        `${chatError(caught, attempt).message.split(':')[0]}; retrying in ${(wait / 1000).toFixed(wait < 10_000 ? 1 : 0)} s (attempt ${attempt + 1} of ${MAX_ATTEMPTS}).`,
      );
      await delay(wait, signal);
    }
  }
}

async function runTools(
  session: ChatSession,
  toolUses: ToolUseBlock[],
  deps: TurnDeps,
  signal: AbortSignal,
  emit: (body: EventBody<ChatEvent>) => void,
): Promise<ToolResultBlockParam[]> {
  const maxChars = deps.chat.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS;
  return Promise.all(
    toolUses.map(async (use): Promise<ToolResultBlockParam> => {
      const input = (use.input ?? {}) as Record<string, unknown>;
      const decision = approvalFor(use.name, deps.chat.approval, session.alwaysAllowed);
      if (decision === 'deny')
        return errorResult(use.id, `mcpd did not run ${use.name}: its approval rules (chat.approval.deny) forbid this tool.`);
      if (decision === 'ask') {
        const answer = signal.aborted ? null : await deps.approve({ requestId: `${session.id}:${use.id}`, name: use.name, input });
        if (signal.aborted) return errorResult(use.id, `${cancelledBy(signal)} before it ran.`);
        if (answer === null)
          return errorResult(
            use.id,
            `mcpd did not run ${use.name}: it needs the user's approval and no client that can answer was attached.`,
          );
        if (answer === 'no') return errorResult(use.id, `The user declined to run ${use.name}.`);
        if (answer === 'always' && !session.alwaysAllowed.includes(use.name)) session.alwaysAllowed.push(use.name);
      }
      emit({ type: 'tool_start', id: use.id, name: use.name, input });
      const t0 = Date.now();
      try {
        let view: string | undefined;
        const result = await deps.callTool(
          use.name,
          input,
          signal,
          (progress) => emit({ type: 'tool_progress', id: use.id, name: use.name, ...progress }),
          (id) => (view = id),
        );
        const converted = convertToolResult(result, { toolUseId: use.id, maxChars, fullTextPath: deps.toolResultPath(use.id) });
        // Claude gets the result as the server gave it; the people watching get its App's link.
        const url = view === undefined ? undefined : await deps.appLink?.(view).catch(() => undefined);
        emit({
          type: 'tool_end',
          id: use.id,
          name: use.name,
          ok: converted.ok,
          durationMs: Date.now() - t0,
          summary: converted.summary,
          truncated: converted.truncated,
          ...(view === undefined ? {} : { app: { view, ...(url ? { url } : {}) } }),
        });
        return converted.block;
      } catch (caught) {
        const message = signal.aborted ? `${cancelledBy(signal)} while it ran.` : errorMessage(caught);
        emit({ type: 'tool_end', id: use.id, name: use.name, ok: false, durationMs: Date.now() - t0, summary: message, truncated: false });
        return errorResult(use.id, message);
      }
    }),
  );
}
