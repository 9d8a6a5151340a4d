/**
 * Results relayed to the control socket as the server wrote them (hotpath/raw-json.ts): whichever
 * order a server writes a response's members in, the client reads the result the server sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ControlClient } from '../../src/client/control-client.js';
import { join } from 'node:path';
import { fixtureEntry, ROOT } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let t: TestDaemon;
let client: ControlClient;

beforeAll(async () => {
  t = await startDaemon({ servers: { ts: fixtureEntry(), py: fixtureEntry({ FIXTURE_WIRE: 'python' }) } });
  client = await t.connect();
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

/** The control socket as raw text: each reply as the daemon wrote it. */
async function rawControl(daemon: TestDaemon) {
  const ws = new WebSocket(`ws+unix://${daemon.daemon.paths.socket}:/`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const replies: string[] = [];
  ws.on('message', (data) => replies.push((data as Buffer).toString('utf8')));
  const send = async (id: number, method: string, params: unknown) => {
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    return new Promise<string>((resolve) => {
      const check = () => {
        const found = replies.find((r) => (JSON.parse(r) as { id: unknown }).id === id);
        if (found) resolve(found);
        else setTimeout(check, 5);
      };
      check();
    });
  };
  await send(1, 'hello', { protocolVersion: 1 });
  return { ws, replies, send };
}

describe('relayed results', () => {
  const text = 'héllo "quoted" \\ back\u2028slash\n\t✓ 𝄞 \u0000 end';

  it('reach the client as the server sent them, in both member orders', async () => {
    for (const server of ['ts', 'py']) {
      const result = await client.request('tools.call', { name: `${server}__echo`, arguments: { message: text } });
      expect(result).toEqual({ content: [{ type: 'text', text }] });
    }
  });

  it('a result without a content list gets an empty one, its structured content kept', async () => {
    for (const server of ['ts', 'py']) {
      const result = await client.request('tools.call', { name: `${server}__structured_only`, arguments: {} });
      expect(result).toEqual({ content: [], structuredContent: { only: true, answer: 42 } });
    }
  });

  it("go out as the server's own text (no second encoding), unless the daemon changed the result", async () => {
    const { ws, replies, send } = await rawControl(t);
    for (const server of ['ts', 'py']) {
      // The raw form: the result first, then the reply's own members.
      expect(await send(2, 'tools.call', { name: `${server}__echo`, arguments: { message: 'hi' } })).toBe(
        '{"result":{"content":[{"type":"text","text":"hi"}]},"jsonrpc":"2.0","id":2}',
      );
      replies.length = 0;
      // The daemon added the missing content list: the result is written out afresh.
      expect(await send(3, 'tools.call', { name: `${server}__structured_only`, arguments: {} })).toBe(
        '{"jsonrpc":"2.0","id":3,"result":{"structuredContent":{"only":true,"answer":42},"content":[]}}',
      );
      replies.length = 0;
    }
    ws.close();
  });

  it('tool errors and large results pass whole, calls in flight each get their own', async () => {
    const calls = ['ts', 'py'].flatMap((server) => [
      client.request('tools.call', { name: `${server}__fail`, arguments: {} }),
      client.request('tools.call', { name: `${server}__big`, arguments: { bytes: 1024 * 1024 } }),
      ...Array.from({ length: 8 }, (_, i) =>
        client.request('tools.call', { name: `${server}__echo`, arguments: { message: `${server}-${i}` } }),
      ),
    ]);
    const results = (await Promise.all(calls)) as unknown as { isError?: boolean; content: { text: string }[] }[];
    for (const [k, server] of ['ts', 'py'].entries()) {
      const [fail, big, ...echoes] = results.slice(k * 10, k * 10 + 10);
      expect(fail).toEqual({ isError: true, content: [{ type: 'text', text: 'it failed on purpose' }] });
      expect(big!.content[0]!.text.length).toBe(1024 * 1024);
      expect(echoes.map((r) => r.content[0]!.text)).toEqual(Array.from({ length: 8 }, (_, i) => `${server}-${i}`));
    }
  });
});

describe('a result a plugin changed', () => {
  it('goes out as changed, never as the text the server sent (a plugin that edits it in place)', async () => {
    const changed = await startDaemon({
      servers: { ts: fixtureEntry(), py: fixtureEntry({ FIXTURE_WIRE: 'python' }) },
      plugins: [join(ROOT, 'test/fixtures/plugins/mutate.ts')],
    });
    try {
      const { ws, send } = await rawControl(changed);
      let id = 10;
      for (const server of ['ts', 'py']) {
        id += 1;
        const reply = await send(id, 'tools.call', { name: `${server}__echo`, arguments: { message: 'hi' } });
        expect(reply).toBe(`{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"hi (changed in place)"}]}}`);
      }
      ws.close();
    } finally {
      await changed.stop();
    }
  });
});
