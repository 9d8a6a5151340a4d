/** The stand-in itself, checked against the real SDK: plain JSON and streaming both parse. */
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessagesApiStandIn } from '../support/messages-api.js';

const api = new MessagesApiStandIn();
let anthropic: Anthropic;

beforeAll(async () => {
  await api.start();
  anthropic = new Anthropic({ apiKey: 'k', baseURL: api.url, maxRetries: 0 });
});
afterAll(() => api.stop());

describe('the Messages API stand-in', () => {
  it('answers plain JSON that the SDK parses', async () => {
    api.script({
      content: [
        { type: 'text', text: 'plain' },
        { type: 'tool_use', id: 'toolu_1', name: 't', input: { a: [1, 2] } },
      ],
    });
    const message = await anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(message.content).toEqual([
      { type: 'text', text: 'plain' },
      { type: 'tool_use', id: 'toolu_1', name: 't', input: { a: [1, 2] } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(api.requests.at(-1)!.body.stream).toBeUndefined();
  });

  it('streams the event sequence the SDK accumulates, tool input as input_json_delta', async () => {
    api.script({
      content: [
        { type: 'text', text: 'streamed text in pieces' },
        { type: 'tool_use', id: 'toolu_2', name: 't', input: { deep: { list: ['a', 'b'] } } },
      ],
      usage: { input_tokens: 7, output_tokens: 3 },
    });
    const stream = anthropic.messages.stream({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const message = await stream.finalMessage();
    expect(message.content[1]).toEqual({ type: 'tool_use', id: 'toolu_2', name: 't', input: { deep: { list: ['a', 'b'] } } });
    expect(message.usage).toMatchObject({ input_tokens: 7, output_tokens: 3 });
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('message_delta');
  });

  it('answers errors the SDK maps to its error classes', async () => {
    api.script({ kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    await expect(
      anthropic.messages.create({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 529 });
  });
});
