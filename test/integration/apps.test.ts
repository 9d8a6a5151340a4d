/**
 * MCP Apps through mcpd, with the two Apps servers from npm (server-basic-vanillajs, twice: the
 * same ui:// URI on two servers; server-system-monitor, whose poll tool is for its App only):
 * what each kind of caller sees of them, what the dashboard's App views hold, and who may call
 * what (no browser here: ui-apps.test.ts renders them in Chromium).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ControlClient } from '../../src/client/control-client.js';
import { appsServer, BAD_APPS } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const UI = { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } };
const REVISION = '2026-07-28';

let t: TestDaemon;
let client: ControlClient;
let base: string;

beforeAll(async () => {
  t = await startDaemon({
    servers: {
      clock: appsServer('server-basic-vanillajs'),
      clock2: appsServer('server-basic-vanillajs'),
      monitor: appsServer('server-system-monitor'),
      bad: BAD_APPS,
    },
    gateway: { http: { port: 0 } },
    // An App's calls follow the chat's approval rules (the CLI's own calls do not).
    chat: { approval: { deny: ['clock2__get-time'], ask: ['monitor__get-system-info'] } },
  });
  client = await t.connect();
  base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

async function mcpClient(capabilities: Record<string, unknown>, path = '/mcp'): Promise<Client> {
  const c = new Client({ name: 'apps-test', version: '1.0.0' }, { capabilities });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${base}${path}`)));
  return c;
}

const texts = (result: object) => ((result as { content?: unknown }).content as { type: string; text?: string }[]).map((c) => c.text ?? '');

describe('MCP Apps through mcpd', () => {
  it('the control socket lists every tool with its _meta.ui as the server wrote it', async () => {
    const { tools } = await client.request('tools.list', {});
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    expect(byName['clock__get-time']?._meta).toEqual({
      ui: { resourceUri: 'ui://get-time/mcp-app.html' },
      'ui/resourceUri': 'ui://get-time/mcp-app.html',
    });
    expect(byName['monitor__poll-system-stats']?._meta).toEqual({ ui: { visibility: ['app'] } });
  });

  it('a call from the CLI gets the tool content, then one line with the link to its App view', async () => {
    const result = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    const lines = texts(result);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(result.app?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ui\/app\/[A-Za-z0-9_-]+$/);
    expect(lines[1]).toBe(`Open its app: ${result.app!.url}`);
    // The view holds the call as it was: tool, input, the server's own result (without the link).
    const { view } = await client.request('apps.view', { view: result.app!.view });
    expect(view).toMatchObject({ server: 'clock', tool: 'clock__get-time', originalName: 'get-time', input: {} });
    expect(view.resourceUri).toBe('ui://get-time/mcp-app.html');
    expect(texts(view.result)).toEqual([lines[0]]);
  });

  it('a caller that shows Apps itself (the dashboard) gets the view, and no line', async () => {
    const result = await client.request('tools.call', { name: 'clock__get-time', arguments: {}, showsApps: true });
    expect(texts(result)).toHaveLength(1);
    expect(result.app?.view).toBeTruthy();
  });

  it('an app-only tool is refused to every caller but its App, which calls by its server’s own names', async () => {
    await expect(client.request('tools.call', { name: 'monitor__poll-system-stats', arguments: {} })).rejects.toMatchObject({
      code: 'MCPD_TOOL_APP_ONLY',
    });
    const monitor = await client.request('tools.call', { name: 'monitor__get-system-info', arguments: {} });
    const stats = await client.request('apps.call', { view: monitor.app!.view, name: 'poll-system-stats', arguments: {} });
    expect(stats.isError).toBeFalsy();
    expect(JSON.stringify(stats.structuredContent ?? stats.content)).toContain('cpu');
    // The clock's App may not reach the monitor's tools, app-only or not.
    const clock = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    await expect(client.request('apps.call', { view: clock.app!.view, name: 'poll-system-stats' })).rejects.toMatchObject({
      code: 'MCPD_APP_REFUSED',
      message: expect.stringContaining('a tool of server "monitor"'),
    });
    await expect(client.request('apps.call', { view: clock.app!.view, name: 'monitor__get-system-info' })).rejects.toMatchObject({
      code: 'MCPD_APP_REFUSED',
    });
    const again = await client.request('apps.call', { view: clock.app!.view, name: 'get-time' });
    expect(texts(again)[0]).toMatch(/^\d{4}-/);
  });

  it('an App’s calls follow chat.approval: denied, or asked of the person looking at it (always: for that view)', async () => {
    const clock2 = await client.request('tools.call', { name: 'clock2__get-time', arguments: {} });
    expect(clock2.isError).toBeFalsy();
    await expect(client.request('apps.call', { view: clock2.app!.view, name: 'get-time' })).rejects.toMatchObject({
      code: 'MCPD_APP_REFUSED',
      message: expect.stringContaining('chat.approval.deny forbids it'),
    });
    const page = await t.connect();
    const asked: unknown[] = [];
    let decision = 'no';
    page.handle('app.approve', async (params) => {
      asked.push(params);
      return { decision };
    });
    const monitor = await client.request('tools.call', { name: 'monitor__get-system-info', arguments: {} });
    await expect(page.request('apps.call', { view: monitor.app!.view, name: 'get-system-info' })).rejects.toMatchObject({
      code: 'MCPD_APP_REFUSED',
      message: expect.stringContaining('the person said no'),
    });
    expect(asked).toEqual([{ view: monitor.app!.view, tool: 'monitor__get-system-info', server: 'monitor', arguments: {} }]);
    decision = 'always';
    expect((await page.request('apps.call', { view: monitor.app!.view, name: 'get-system-info' })).isError).toBeFalsy();
    expect((await page.request('apps.call', { view: monitor.app!.view, name: 'get-system-info' })).isError).toBeFalsy();
    expect(asked).toHaveLength(2);
  });

  it('the App document is the checked HTML, with a sandbox on another origin', async () => {
    const clock = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    const dashboard = new URL(clock.app!.url).origin;
    const doc = await client.request('apps.document', { view: clock.app!.view, parent: dashboard });
    expect(doc.html).toContain('<html');
    const sandbox = new URL(doc.sandbox);
    expect(sandbox.hostname).toBe('localhost');
    expect(sandbox.port).not.toBe(new URL(dashboard).port);
    const page = await fetch(doc.sandbox);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toContain("connect-src 'none'");
    expect(csp).toContain(`frame-ancestors ${dashboard}`);
    // Framed by anything but the dashboard: refused.
    await expect(client.request('apps.document', { view: clock.app!.view, parent: 'http://evil.example' })).rejects.toMatchObject({
      code: 'MCPD_APP_INVALID',
    });
    await expect(client.request('apps.view', { view: 'no-such-view' })).rejects.toMatchObject({ code: 'MCPD_APP_VIEW_UNKNOWN' });
  });

  it('an App view’s own link opens that view only, without the cookie', async () => {
    const clock = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    const page = await fetch(clock.app!.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="app">');
    const expired = await fetch(clock.app!.url.replace(/[^/]+$/, 'AAAAexpired'));
    expect(expired.status).toBe(404);
    expect(await expired.text()).toContain('This App view has expired');
    // The dashboard itself still needs the cookie.
    expect((await fetch(new URL('/ui/', clock.app!.url))).status).toBe(401);
  });
});

/** One request on a WebSocket to the daemon, answered. */
function rpc(
  ws: WebSocket,
  method: string,
  params: unknown,
  id: number,
): Promise<{ result?: unknown; error?: { data?: { code?: string } } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as { id?: number };
      if (message.id !== id) return;
      ws.off('message', onMessage);
      resolve(message as { result?: unknown; error?: { data?: { code?: string } } });
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  });
}

describe('an App view’s own connection', () => {
  const open = (url: string, view: string, origin: string) =>
    new Promise<{ ws: WebSocket } | { status: number }>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws').replace(/\/ui\/app\/.*$/, '')}/ui/ws?app=${view}`, {
        headers: { Origin: origin },
      });
      ws.once('open', () => resolve({ ws }));
      ws.once('unexpected-response', (_req, res) => {
        resolve({ status: res.statusCode! });
        res.resume();
      });
      ws.once('error', reject);
    });

  it('reaches its own view and nothing else; a made-up view or another origin is refused', async () => {
    const one = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    const other = await client.request('tools.call', { name: 'clock2__get-time', arguments: {} });
    const origin = new URL(one.app!.url).origin;
    expect(await open(one.app!.url, 'madeup', origin)).toEqual({ status: 401 });
    expect(await open(one.app!.url, one.app!.view, 'http://localhost:1')).toEqual({ status: 403 });
    const opened = await open(one.app!.url, one.app!.view, origin);
    if (!('ws' in opened)) throw new Error(`refused: ${opened.status}`);
    const { ws } = opened;
    try {
      expect((await rpc(ws, 'hello', { protocolVersion: 1 }, 1)).result).toBeTruthy();
      expect((await rpc(ws, 'apps.view', { view: one.app!.view }, 2)).result).toMatchObject({ view: { server: 'clock' } });
      for (const [i, [method, params]] of (
        [
          ['status', {}],
          ['tools.call', { name: 'clock__get-time' }],
          ['apps.view', { view: other.app!.view }],
          ['apps.call', { view: other.app!.view, name: 'get-time' }],
          ['events.subscribe', { events: ['log:line'] }],
        ] as const
      ).entries()) {
        expect((await rpc(ws, method, params, 10 + i)).error?.data?.code, method).toBe('MCPD_APP_REFUSED');
      }
      expect((await rpc(ws, 'apps.call', { view: one.app!.view, name: 'get-time' }, 20)).result).toMatchObject({
        content: [{ type: 'text' }],
      });
    } finally {
      ws.close();
    }
  });
});

describe('MCP Apps on the merged /mcp', () => {
  it('a host without the UI extension: no app-only tool, URIs unique per server, a link after the content', async () => {
    const host = await mcpClient({});
    try {
      const { tools } = await host.listTools();
      const names = tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['clock__get-time', 'clock2__get-time', 'monitor__get-system-info']));
      expect(names).not.toContain('monitor__poll-system-stats');
      const uri = (name: string) => (tools.find((tool) => tool.name === name)!._meta!['ui'] as { resourceUri: string }).resourceUri;
      expect(uri('clock__get-time')).toBe('ui://clock/get-time/mcp-app.html');
      expect(uri('clock2__get-time')).toBe('ui://clock2/get-time/mcp-app.html');
      expect(tools.find((tool) => tool.name === 'clock__get-time')!._meta!['ui/resourceUri']).toBe('ui://clock/get-time/mcp-app.html');
      const { resources } = await host.listResources();
      expect(resources.map((r) => r.uri)).toEqual(
        expect.arrayContaining([
          'ui://clock/get-time/mcp-app.html',
          'ui://clock2/get-time/mcp-app.html',
          'ui://monitor/system-monitor/mcp-app.html',
        ]),
      );
      const read = await host.readResource({ uri: 'ui://clock2/get-time/mcp-app.html' });
      expect(read.contents[0]).toMatchObject({ uri: 'ui://clock2/get-time/mcp-app.html', mimeType: 'text/html;profile=mcp-app' });
      const result = await host.callTool({ name: 'clock__get-time', arguments: {} });
      const lines = texts(result);
      expect(lines).toHaveLength(2);
      expect(lines[1]).toMatch(/^Open its app: http:\/\/127\.0\.0\.1:\d+\/ui\/app\//);
      const refused = await host.callTool({ name: 'monitor__poll-system-stats', arguments: {} });
      expect(refused.isError).toBe(true);
      expect(texts(refused)[0]).toContain('App of server "monitor" only');
    } finally {
      await host.close();
    }
  });

  it('a host that shows Apps: the app-only tool is listed and callable, and results come as the server gave them', async () => {
    const host = await mcpClient({ extensions: UI });
    try {
      const { tools } = await host.listTools();
      expect(tools.map((tool) => tool.name)).toContain('monitor__poll-system-stats');
      const stats = await host.callTool({ name: 'monitor__poll-system-stats', arguments: {} });
      expect(stats.isError).toBeFalsy();
      expect(texts(await host.callTool({ name: 'clock__get-time', arguments: {} }))).toHaveLength(1);
    } finally {
      await host.close();
    }
  });

  it('an App resource its server does not list is read from that server, on every path', async () => {
    const { resources } = await client.request('resources.list', { server: 'bad' });
    expect(resources.map((r) => r.uri)).not.toContain('ui://fixture/unlisted/app.html');
    const direct = await client.request('resources.read', { uri: 'ui://fixture/unlisted/app.html' });
    expect(direct.contents[0]).toMatchObject({ uri: 'ui://fixture/unlisted/app.html', mimeType: 'text/html;profile=mcp-app' });
    const view = await client.request('tools.call', { name: 'bad__unlisted', arguments: {} });
    const doc = await client.request('apps.document', { view: view.app!.view, parent: new URL(view.app!.url).origin });
    expect(doc.html).toContain('<h1>unlisted</h1>');
    for (const [path, uri] of [
      ['/mcp', 'ui://bad/fixture/unlisted/app.html'],
      ['/servers/bad/mcp', 'ui://fixture/unlisted/app.html'],
    ] as const) {
      const host = await mcpClient({}, path);
      try {
        const read = await host.readResource({ uri });
        expect(read.contents[0]).toMatchObject({ uri, mimeType: 'text/html;profile=mcp-app' });
      } finally {
        await host.close();
      }
    }
  });

  it('one server’s endpoint shows its URIs as they are', async () => {
    const host = await mcpClient({}, '/servers/clock/mcp');
    try {
      const { tools } = await host.listTools();
      expect((tools[0]!._meta!['ui'] as { resourceUri: string }).resourceUri).toBe('ui://get-time/mcp-app.html');
      const read = await host.readResource({ uri: 'ui://get-time/mcp-app.html' });
      expect(read.contents[0]!.uri).toBe('ui://get-time/mcp-app.html');
    } finally {
      await host.close();
    }
  });

  it('a 2026-07-28 request gets the same answers by what it declares', async () => {
    const post = async (capabilities: Record<string, unknown>) => {
      const response = await fetch(`${base}/mcp`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          'MCP-Protocol-Version': REVISION,
          'Mcp-Method': 'tools/list',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/list',
          params: {
            _meta: {
              'io.modelcontextprotocol/protocolVersion': REVISION,
              'io.modelcontextprotocol/clientInfo': { name: 'a-2026-host', version: '1.0.0' },
              'io.modelcontextprotocol/clientCapabilities': capabilities,
            },
          },
        }),
      });
      const text = await response.text();
      const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
      return (JSON.parse(json) as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);
    };
    expect(await post({})).not.toContain('monitor__poll-system-stats');
    expect(await post({ extensions: UI })).toContain('monitor__poll-system-stats');
  });
});
