/**
 * The HTTP gateway as MCP clients meet it: the SDK's Streamable HTTP client against /mcp and
 * /servers/NAME/mcp of a real daemon with real fixture servers; and the attacks a gateway on
 * loopback must turn away (DNS rebinding through Host, a foreign Origin, a missing token).
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/validate.js';
import { fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';
import { rawPost } from '../support/http.js';

const TOKEN = 'a-test-token-of-32-characters-xx';
let t: TestDaemon;
let base: string;
let events: string;
const clients: Client[] = [];

async function connect(path: string, name = 'http-host'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
  );
  clients.push(client);
  return client;
}

/** A raw POST (node:http, so that Host can be set as an attacker's page would have it). */
async function post(
  path: string,
  headers: Record<string, string>,
  body: unknown = { jsonrpc: '2.0', id: 1, method: 'ping' },
): Promise<{ status: number }> {
  return { status: (await rawPost(`${base}${path}`, body, headers)).status };
}

beforeAll(async () => {
  const dir = tempDir('mcpd-gw-');
  events = join(dir.path, 'events.log');
  t = await startDaemon({
    servers: { fx: fixtureEntry({ FIXTURE_EVENTS: events }), other: fixtureEntry() },
    gateway: {
      http: { port: 0, token: TOKEN },
      profiles: { small: { servers: ['fx'], tools: { deny: ['fx__big', 'fx__die'] } }, echoes: { tools: { allow: ['*__echo'] } } },
    },
  });
  const front = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!;
  base = front.address;
});

afterEach(async () => {
  await Promise.allSettled(clients.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await t?.stop();
});

describe('the HTTP gateway', () => {
  it('serves the merged catalogue at /mcp and one server under its own names at /servers/NAME/mcp', async () => {
    const merged = await connect('/mcp');
    expect((await merged.listTools()).tools.map((x) => x.name)).toEqual(expect.arrayContaining(['fx__echo', 'other__echo']));
    expect((await merged.callTool({ name: 'other__echo', arguments: { message: 'over http' } })).content).toEqual([
      { type: 'text', text: 'over http' },
    ]);
    const one = await connect('/servers/fx/mcp');
    const oneTools = (await one.listTools()).tools;
    expect(oneTools.map((x) => x.name)).toEqual(expect.arrayContaining(['echo', 'big']));
    // What the relay passes on as the server gave it: annotations and _meta.
    expect(oneTools.find((x) => x.name === 'echo')).toMatchObject({
      annotations: { readOnlyHint: true },
      _meta: { 'dev.mcpd/kept': 'yes' },
    });
    expect((await one.readResource({ uri: 'fixture://secret' })).contents).toHaveLength(1);
    expect((await one.getPrompt({ name: 'secret_prompt' })).messages).toHaveLength(1);
    // A 16 MiB result passes (gateways that refuse 100 KiB exist).
    const big = await one.callTool({ name: 'big', arguments: { bytes: 16 * 1024 * 1024 } });
    expect((big.content as { text: string }[])[0]!.text.length).toBe(16 * 1024 * 1024);
    expect(t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.sessions).toBe(2);
    expect(t.daemon.status().clients.map((c) => [c.name, c.endpoint, c.front])).toEqual([
      ['http-host', '/mcp', 'mcp-http'],
      ['http-host', '/servers/fx/mcp', 'mcp-http'],
    ]);
  });

  it('tells control clients when an MCP client connects and leaves', async () => {
    const control = await t.connect();
    await control.subscribe(['client:connected', 'client:disconnected']);
    const seen: string[] = [];
    control.on('client:connected', (c) => seen.push(`+${c.name}@${c.endpoint}`));
    control.on('client:disconnected', (c) => seen.push(`-${c.name}@${c.endpoint}`));
    const client = new Client({ name: 'watched', version: '2.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/profiles/echoes/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } },
    });
    await client.connect(transport);
    await waitFor(() => seen.includes('+watched@/profiles/echoes/mcp'), 5_000, 'client:connected');
    // An HTTP client leaves by ending its session (DELETE); one that just vanishes is closed when idle.
    await transport.terminateSession();
    await client.close();
    await waitFor(() => seen.includes('-watched@/profiles/echoes/mcp'), 5_000, 'client:disconnected');
    expect(t.daemon.status().clients.some((c) => c.name === 'watched')).toBe(false);
  });

  it('two clients with different profiles see different views, and cannot call past them', async () => {
    const small = await connect('/profiles/small/mcp', 'small');
    const echoes = await connect('/profiles/echoes/mcp', 'echoes');
    const smallTools = (await small.listTools()).tools.map((x) => x.name);
    expect(smallTools).toEqual(expect.arrayContaining(['fx__echo', 'fx__slow']));
    expect(smallTools.some((n) => n === 'fx__big' || n === 'fx__die' || n.startsWith('other__'))).toBe(false);
    expect((await echoes.listTools()).tools.map((x) => x.name).sort()).toEqual(['fx__echo', 'other__echo']);
    await expect(small.callTool({ name: 'other__echo', arguments: { message: 'x' } })).rejects.toThrow('No tool named "other__echo"');
    await expect(echoes.callTool({ name: 'fx__big', arguments: { bytes: 1 } })).rejects.toThrow('No tool named "fx__big"');
    expect((await echoes.callTool({ name: 'other__echo', arguments: { message: 'ok' } })).content).toEqual([{ type: 'text', text: 'ok' }]);
    expect((await post('/profiles/nope/mcp', { Authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  });

  it('relays progress and cancellation, and tells every client of a changed list', async () => {
    const a = await connect('/mcp', 'a');
    const b = await connect('/servers/other/mcp', 'b');
    const changed = { a: 0, b: 0 };
    a.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed.a += 1));
    b.setNotificationHandler(ToolListChangedNotificationSchema, () => void (changed.b += 1));
    const progress: number[] = [];
    await a.callTool({ name: 'fx__progress', arguments: { ms: 300, every: 60 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    const abort = new AbortController();
    const slow = a.callTool({ name: 'fx__slow', arguments: { ms: 30_000 } }, undefined, { signal: abort.signal });
    await new Promise((r) => setTimeout(r, 300));
    abort.abort();
    await expect(slow).rejects.toThrow();
    await waitFor(
      () => existsSync(events) && readFileSync(events, 'utf8').includes('cancelled slow'),
      5_000,
      'the cancel to reach the server',
    );
    await a.callTool({ name: 'other__add_tool', arguments: { name: 'added_over_http' } });
    await waitFor(() => changed.a > 0 && changed.b > 0, 5_000, 'list_changed on both clients');
    expect((await b.listTools()).tools.map((x) => x.name)).toContain('added_over_http');
  });

  it('an elicitation and a sampling request go to the client whose call caused them', async () => {
    const make = async (name: string, answers: boolean) => {
      const client = new Client({ name, version: '1.0.0' }, { capabilities: answers ? { elicitation: {}, sampling: {} } : {} });
      if (answers) {
        client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name } }));
        client.setRequestHandler(CreateMessageRequestSchema, async () => ({
          role: 'assistant',
          model: `model-of-${name}`,
          content: { type: 'text', text: `hi from ${name}` },
        }));
      }
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }),
      );
      clients.push(client);
      return client;
    };
    const ada = await make('ada', true);
    const bob = await make('bob', true);
    const mute = await make('mute', false);
    const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]!.text;
    expect(text(await ada.callTool({ name: 'fx__ask', arguments: {} }))).toBe('hello ada');
    expect(text(await bob.callTool({ name: 'fx__ask', arguments: {} }))).toBe('hello bob');
    expect(text(await bob.callTool({ name: 'fx__sample', arguments: {} }))).toBe('model said: hi from bob');
    // A client that cannot answer gets the request declined, with a log line saying why.
    expect(text(await mute.callTool({ name: 'fx__ask', arguments: {} }))).toBe('no answer (decline)');
    expect(
      t.daemon.logs
        .read('fx', 200)
        .some((e) =>
          e.text.includes('declined: server "fx" sent an elicitation and no call in flight comes from a caller that can answer it'),
        ),
    ).toBe(true);
  });

  it('refuses DNS rebinding (Host), foreign Origins, missing or wrong tokens, and unknown sessions', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}` };
    const port = new URL(base).port;
    expect((await post('/mcp', { ...auth, Host: `evil.example:${port}` })).status).toBe(403);
    expect((await post('/mcp', { ...auth, Origin: 'https://evil.example' })).status).toBe(403);
    expect((await post('/mcp', {})).status).toBe(401);
    expect((await post('/mcp', { Authorization: 'Bearer wrong-token-wrong-token-wrong-tok' })).status).toBe(401);
    expect((await post('/mcp', { ...auth, 'Mcp-Session-Id': 'no-such-session' })).status).toBe(404);
    expect((await post('/nothing/here', auth)).status).toBe(404);
    expect((await post('/servers/nope/mcp', auth)).status).toBe(404);
  });

  it('a profile naming a server not in the config is a config error', () => {
    const result = validateConfig({ servers: { a: { command: 'x' } }, gateway: { profiles: { p: { servers: ['a', 'zz'] } } } }, '/');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([{ path: 'gateway.profiles.p.servers[1]', message: 'names no server in the config ("zz")' }]);
  });

  it('a non-loopback host without a token is a config error', () => {
    const result = validateConfig({ servers: {}, gateway: { http: { host: '0.0.0.0', port: 7331 } } }, '/');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({
      path: 'gateway.http.token',
      message: expect.stringContaining('is required when gateway.http.host (0.0.0.0) is not loopback'),
    });
    expect(validateConfig({ servers: {}, gateway: { http: { host: '0.0.0.0', port: 7331, token: TOKEN } } }, '/').ok).toBe(true);
  });
});

/** Raw Streamable HTTP, as the spec words it: what the SDK client does not show. */
describe("the gateway's Streamable HTTP transport", () => {
  interface Answer {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const accept = 'application/json, text/event-stream';

  /** One HTTP exchange; `until` ends it early (the client drops the connection) once the body so far passes. */
  function exchange(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
    until?: (body: string) => boolean,
  ): Promise<Answer> {
    const url = new URL(`${base}${path}`);
    return new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method, headers: { ...auth, ...headers } }, (res) => {
        let text = '';
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          if (until?.(text)) {
            req.destroy();
            done();
          }
        });
        res.on('end', done);
      });
      req.on('error', (error) => (until ? undefined : reject(error)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  const events = (sse: string) =>
    [...sse.matchAll(/(?:^|\n)id: (\S+)\ndata: (.*)\n/g)].map((m) => ({
      id: m[1]!,
      message: JSON.parse(m[2]!) as Record<string, unknown>,
    }));

  async function session(path = '/servers/fx/mcp'): Promise<{ headers: Record<string, string> }> {
    const init = await exchange(
      'POST',
      path,
      { 'Content-Type': 'application/json', Accept: accept },
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      },
    );
    expect(init.status).toBe(200);
    const headers = { 'Mcp-Session-Id': String(init.headers['mcp-session-id']), 'Mcp-Protocol-Version': '2025-11-25' };
    expect(
      (
        await exchange(
          'POST',
          path,
          { 'Content-Type': 'application/json', Accept: accept, ...headers },
          { jsonrpc: '2.0', method: 'notifications/initialized' },
        )
      ).status,
    ).toBe(202);
    return { headers };
  }

  it('answers a call as plain JSON when the result is all there is, and as an SSE stream when progress goes first', async () => {
    const { headers } = await session();
    const plain = await exchange(
      'POST',
      '/servers/fx/mcp',
      { 'Content-Type': 'application/json', Accept: accept, ...headers },
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'json' } } },
    );
    expect(plain.headers['content-type']).toBe('application/json');
    expect(JSON.parse(plain.body)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'json' }] } });

    const batch = await exchange('POST', '/servers/fx/mcp', { 'Content-Type': 'application/json', Accept: accept, ...headers }, [
      { jsonrpc: '2.0', id: 2, method: 'ping' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { message: 'b' } } },
    ]);
    expect((JSON.parse(batch.body) as { id: number }[]).map((m) => m.id).sort()).toEqual([2, 3]);

    const streamed = await exchange(
      'POST',
      '/servers/fx/mcp',
      { 'Content-Type': 'application/json', Accept: accept, ...headers },
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/call',
        params: { name: 'progress', arguments: { ms: 150, every: 50 }, _meta: { progressToken: 'p' } },
      },
    );
    expect(streamed.headers['content-type']).toBe('text/event-stream');
    const messages = events(streamed.body).map((e) => e.message);
    expect(messages.filter((m) => m['method'] === 'notifications/progress').length).toBeGreaterThanOrEqual(2);
    expect(messages.at(-1)).toMatchObject({ id: 4, result: { content: [{ type: 'text', text: 'worked 150 ms' }] } });
  });

  it('resumes a stream the client lost: GET with Last-Event-ID gives what it missed, then the result', async () => {
    const { headers } = await session();
    const call = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'progress', arguments: { ms: 600, every: 100 }, _meta: { progressToken: 'r' } },
    };
    // The client drops the connection after the first event.
    const first = await exchange(
      'POST',
      '/servers/fx/mcp',
      { 'Content-Type': 'application/json', Accept: accept, ...headers },
      call,
      (body) => events(body).length >= 1,
    );
    const [seen] = events(first.body);
    expect(seen!.message).toMatchObject({ method: 'notifications/progress', params: { progressToken: 'r', progress: 1 } });
    await new Promise((r) => setTimeout(r, 200));
    const rest = await exchange('GET', '/servers/fx/mcp', { Accept: 'text/event-stream', 'Last-Event-ID': seen!.id, ...headers });
    expect(rest.status).toBe(200);
    const missed = events(rest.body).map((e) => e.message);
    expect(
      missed.filter((m) => m['method'] === 'notifications/progress').map((m) => (m['params'] as { progress: number }).progress),
    ).toEqual([2, 3, 4, 5, 6]);
    expect(missed.at(-1)).toMatchObject({ id: 7, result: { content: [{ type: 'text', text: 'worked 600 ms' }] } });
    // An event id it never sent: 404.
    expect((await exchange('GET', '/servers/fx/mcp', { Accept: 'text/event-stream', 'Last-Event-ID': 'nope_1', ...headers })).status).toBe(
      404,
    );
  });

  it('refuses what the spec refuses, and DELETE ends the session', async () => {
    const { headers } = await session();
    const json = { 'Content-Type': 'application/json', ...headers };
    const ping = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect((await exchange('POST', '/servers/fx/mcp', { ...json, Accept: 'application/json' }, ping)).status).toBe(406);
    expect((await exchange('POST', '/servers/fx/mcp', { ...headers, 'Content-Type': 'text/plain', Accept: accept }, ping)).status).toBe(
      415,
    );
    expect(
      (await exchange('POST', '/servers/fx/mcp', { ...json, Accept: accept, 'Mcp-Protocol-Version': '1999-01-01' }, ping)).status,
    ).toBe(400);
    expect((await exchange('POST', '/servers/fx/mcp', { ...json, Accept: accept }, { hello: 'world' })).status).toBe(400);
    expect(
      (await exchange('POST', '/servers/fx/mcp', { ...json, Accept: accept }, { jsonrpc: '2.0', id: 9, method: 'initialize', params: {} }))
        .status,
    ).toBe(400);
    expect((await exchange('PUT', '/servers/fx/mcp', { ...json, Accept: accept }, ping)).status).toBe(405);
    // One GET stream per session.
    const url = new URL(`${base}/servers/fx/mcp`);
    const open = request({
      host: url.hostname,
      port: url.port,
      path: url.pathname,
      method: 'GET',
      headers: { ...auth, Accept: 'text/event-stream', ...headers },
    });
    open.on('error', () => undefined);
    const opened = await new Promise<number>((resolve) => open.on('response', (res) => resolve(res.statusCode ?? 0)).end());
    expect(opened).toBe(200);
    expect((await exchange('GET', '/servers/fx/mcp', { Accept: 'text/event-stream', ...headers })).status).toBe(409);
    open.destroy();
    expect((await exchange('DELETE', '/servers/fx/mcp', headers)).status).toBe(200);
    expect((await exchange('POST', '/servers/fx/mcp', { ...json, Accept: accept }, ping)).status).toBe(404);
  });
});
