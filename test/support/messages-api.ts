/**
 * A scripted stand-in for the Anthropic Messages API: a real HTTP server on 127.0.0.1 answering
 * `POST /v1/messages`, streaming (the event sequence the API emits, tool input as
 * `input_json_delta`) or plain JSON, as the request asks. Each test scripts the replies; every
 * request is recorded. Reached by the real SDK through ANTHROPIC_BASE_URL.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type ScriptedBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> }
  /**
   * The API's own tool search (tool_search_tool_bm25 / _regex): the stand-in searches the
   * request's deferred tools as the API does (the words of `query` in a tool's name or
   * description; for regex, the pattern) and answers with a `server_tool_use` block and its
   * `tool_search_tool_result`, in the same response.
   */
  | { type: 'tool_search'; query: string };

export interface ScriptedUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

export type ScriptedReply =
  | {
      kind?: 'message';
      content: ScriptedBlock[];
      stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'pause_turn';
      usage?: ScriptedUsage;
      /** Stream this many SSE events, then stop sending (the connection stays open). */
      hangAfterEvents?: number;
      /** Wait between SSE events. */
      eventDelayMs?: number;
    }
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> }
  | { kind: 'drop' };

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    max_tokens: number;
    stream?: boolean;
    messages: { role: string; content: unknown }[];
    tools?: { name: string; type?: string; description?: string; defer_loading?: boolean; cache_control?: unknown }[];
    system?: unknown;
    [key: string]: unknown;
  };
  receivedAt: number;
}

type Script = ScriptedReply | ((request: RecordedRequest) => ScriptedReply);

let ids = 0;
const nextId = (prefix: string) => `${prefix}_${(++ids).toString(36).padStart(6, '0')}`;

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** The API's refusal of a history with a tool_use whose result is not in the next message, or undefined. */
function unansweredToolUse(messages: RecordedRequest['body']['messages']): string | undefined {
  for (let i = 0; i < messages.length; i += 1) {
    const content = messages[i]!.content;
    if (messages[i]!.role !== 'assistant' || typeof content === 'string') continue;
    const ids = (content as { type: string; id?: string }[]).filter((b) => b.type === 'tool_use').map((b) => b.id!);
    if (ids.length === 0) continue;
    const next = messages[i + 1]?.content;
    const answered = new Set(
      typeof next === 'string' || next === undefined
        ? []
        : (next as { type: string; tool_use_id?: string }[]).filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id),
    );
    const missing = ids.filter((id) => !answered.has(id));
    if (missing.length > 0)
      return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
  }
  return undefined;
}

const SEARCH_TOOLS = new Set(['tool_search_tool_bm25', 'tool_search_tool_regex']);

/** The search tool the request offers, if any. */
function searchToolOf(body: RecordedRequest['body']) {
  return body.tools?.find((t) => SEARCH_TOOLS.has(t.name) && typeof t.type === 'string' && t.type.startsWith(t.name));
}

/** The deferred tools matching `query`: every word in its name or description (bm25), or the pattern (regex). */
function searchDeferred(body: RecordedRequest['body'], tool: string, query: string): string[] {
  const deferred = (body.tools ?? []).filter((t) => t.defer_loading === true);
  const text = (t: { name: string; description?: string }) => `${t.name} ${t.description ?? ''}`.toLowerCase();
  if (tool === 'tool_search_tool_regex') {
    const pattern = new RegExp(query, 'i');
    return deferred
      .filter((t) => pattern.test(text(t)))
      .map((t) => t.name)
      .slice(0, 5);
  }
  const words = query
    .toLowerCase()
    .split(/\W+/)
    .filter((w) => w.length > 2);
  const score = (t: { name: string; description?: string }) => words.filter((w) => text(t).includes(w)).length;
  return deferred
    .map((t) => ({ name: t.name, score: score(t) }))
    .filter((t) => t.score > 0)
    .sort((a, b) => b.score - a.score)
    .slice(0, 5)
    .map((t) => t.name);
}

/** The API's refusal of a deferred tool called before any tool search of the conversation found it. */
function undiscoveredTool(
  body: RecordedRequest['body'],
  content: { type: string; name?: string; content?: unknown }[],
): string | undefined {
  const deferred = new Set((body.tools ?? []).filter((t) => t.defer_loading === true).map((t) => t.name));
  const found = new Set<string>();
  const blocks = [
    ...body.messages.flatMap((m) => (typeof m.content === 'string' ? [] : (m.content as { type: string; content?: unknown }[]))),
    ...content,
  ];
  for (const block of blocks) {
    if (block.type !== 'tool_search_tool_result') continue;
    const references = (block.content as { tool_references?: { tool_name: string }[] } | undefined)?.tool_references ?? [];
    for (const reference of references) found.add(reference.tool_name);
  }
  const wrong = content.find((b) => b.type === 'tool_use' && deferred.has(b.name!) && !found.has(b.name!));
  return wrong ? `stand-in: the deferred tool "${wrong.name}" was called before a tool search found it` : undefined;
}

export class MessagesApiStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Script[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  url = '';

  /** Queues replies, one per request, in order. */
  script(...replies: Script[]): void {
    this.queue.push(...replies);
  }

  get pending(): number {
    return this.queue.length;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    if (req.method !== 'POST' || !req.url?.startsWith('/v1/messages')) {
      this.sendError(res, { kind: 'error', status: 404, type: 'not_found_error', message: `stand-in: no route ${req.method} ${req.url}` });
      return;
    }
    const request: RecordedRequest = { headers: req.headers, body: JSON.parse(raw) as RecordedRequest['body'], receivedAt: Date.now() };
    this.requests.push(request);
    // As the real API does: every tool_use answered by a tool_result in the next message.
    const unanswered = unansweredToolUse(request.body.messages);
    if (unanswered) {
      this.sendError(res, { kind: 'error', status: 400, type: 'invalid_request_error', message: unanswered });
      return;
    }
    const next = this.queue.shift();
    if (!next) {
      this.sendError(res, { kind: 'error', status: 500, type: 'api_error', message: 'stand-in: no scripted reply left for this request' });
      return;
    }
    const reply = typeof next === 'function' ? next(request) : next;
    if (reply.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (reply.kind === 'error') {
      this.sendError(res, reply);
      return;
    }
    const message = this.message(request.body, reply);
    const undiscovered = undiscoveredTool(request.body, message.content);
    if (undiscovered) {
      this.sendError(res, { kind: 'error', status: 400, type: 'invalid_request_error', message: undiscovered });
      return;
    }
    if (request.body.stream) await this.stream(res, message, reply);
    else {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': nextId('req') });
      res.end(JSON.stringify(message));
    }
  }

  private message(body: RecordedRequest['body'], reply: Extract<ScriptedReply, { content: ScriptedBlock[] }>) {
    const model = body.model;
    const content: Record<string, unknown>[] & { type: string; name?: string }[] = reply.content.flatMap(
      (block): (Record<string, unknown> & { type: string; name?: string })[] => {
        if (block.type === 'text') return [{ type: 'text', text: block.text }];
        if (block.type === 'tool_use') return [{ type: 'tool_use', id: block.id ?? nextId('toolu'), name: block.name, input: block.input }];
        const tool = searchToolOf(body);
        if (!tool) throw new Error('stand-in: a tool_search was scripted, but the request offers no tool search tool');
        const id = nextId('srvtoolu');
        const input = tool.name === 'tool_search_tool_regex' ? { pattern: block.query } : { query: block.query };
        const references = searchDeferred(body, tool.name, block.query).map((name) => ({ type: 'tool_reference', tool_name: name }));
        return [
          { type: 'server_tool_use', id, name: tool.name, input, caller: { type: 'direct' } },
          {
            type: 'tool_search_tool_result',
            tool_use_id: id,
            content: { type: 'tool_search_tool_search_result', tool_references: references },
          },
        ];
      },
    );
    const usage = {
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...(reply.usage ?? { input_tokens: 10, output_tokens: 5 }),
    };
    const stopReason = reply.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
    return { id: nextId('msg'), type: 'message', role: 'assistant', model, content, stop_reason: stopReason, stop_sequence: null, usage };
  }

  private async stream(
    res: ServerResponse,
    message: ReturnType<MessagesApiStandIn['message']>,
    reply: Extract<ScriptedReply, { content: ScriptedBlock[] }>,
  ): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': nextId('req'),
    });
    const events: { event: string; data: unknown }[] = [];
    const { usage } = message;
    events.push({
      event: 'message_start',
      data: {
        type: 'message_start',
        message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
      },
    });
    message.content.forEach((block, index) => {
      if (block.type === 'text') {
        events.push({
          event: 'content_block_start',
          data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } },
        });
        if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
        for (const part of chunks(block['text'] as string, 8)) {
          events.push({
            event: 'content_block_delta',
            data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } },
          });
        }
      } else if (block.type === 'tool_search_tool_result') {
        // As the API streams a server tool's result: the whole block at its start.
        events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: block } });
      } else {
        const start = { ...block, input: {} };
        events.push({
          event: 'content_block_start',
          data: { type: 'content_block_start', index, content_block: start },
        });
        events.push({
          event: 'content_block_delta',
          data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } },
        });
        for (const part of chunks(JSON.stringify(block['input']), 10)) {
          events.push({
            event: 'content_block_delta',
            data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } },
          });
        }
      }
      events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
    });
    events.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: message.stop_reason, stop_sequence: null },
        usage: { output_tokens: usage.output_tokens },
      },
    });
    events.push({ event: 'message_stop', data: { type: 'message_stop' } });
    for (let i = 0; i < events.length; i += 1) {
      if (reply.hangAfterEvents !== undefined && i >= reply.hangAfterEvents) return; // keep the connection open, send nothing more
      const { event, data } = events[i]!;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      if (reply.eventDelayMs) await new Promise((r) => setTimeout(r, reply.eventDelayMs));
    }
    res.end();
  }

  private sendError(res: ServerResponse, reply: Extract<ScriptedReply, { kind: 'error' }>): void {
    res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
    res.end(JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }));
  }
}
