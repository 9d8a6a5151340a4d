/**
 * Plugins through a real daemon: hook order and chaining, deny, rewrites, faults (throw, hang,
 * load failure), reload, and the hooks on every path.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appsServer, fixtureEntry, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const PROBE = join(ROOT, 'test/fixtures/plugins/probe.ts');
const running: TestDaemon[] = [];
afterEach(async () => {
  await Promise.allSettled(running.splice(0).map((t) => t.stop()));
});

async function daemonWith(plugins: unknown[]): Promise<TestDaemon> {
  const t = await startDaemon({ servers: { fx: fixtureEntry() }, plugins });
  running.push(t);
  return t;
}

const texts = (result: { content: Array<Record<string, unknown>> }) => result.content.map((c) => c['text']);

describe('hook order and chaining', () => {
  it("runs catalogue, beforeToolCall and afterToolCall in plugin order, each seeing the last one's change", async () => {
    const t = await daemonWith([
      [PROBE, { tag: 'a' }],
      [PROBE, { tag: 'b' }],
    ]);
    const client = await t.connect();
    const { tools } = await client.request('tools.list', {});
    expect(tools.find((x) => x.name === 'fx__echo')!.description).toBe('Echoes its message [a] [b]');
    const result = await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'hi' } });
    // The server got the arguments as rewritten by a then b; results were rewritten by a then b.
    expect(texts(result)).toEqual(['hi+a+b', 'after:a', 'after:b']);
    const status = await client.request('status', {});
    expect(status.plugins.map((p) => [p.name, p.state, p.hooks.sort().join(',')])).toEqual([
      ['probe', 'loaded', 'afterToolCall,beforeToolCall,catalogue,onEvent'],
      ['probe', 'loaded', 'afterToolCall,beforeToolCall,catalogue,onEvent'],
    ]);
    const { entries } = await client.request('logs.read', { lines: 200 });
    expect(entries.some((e) => e.source === 'plugin:probe' && e.text === 'a set up')).toBe(true);
  });

  it('the first deny wins: later plugins and the server never see the call', async () => {
    const t = await daemonWith([
      [PROBE, { tag: 'guard', deny: ['fx__ech*'] }],
      [PROBE, { tag: 'later', events: true }],
    ]);
    const client = await t.connect();
    const result = await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'x' } });
    expect(result.isError).toBe(true);
    expect(texts(result)[0]).toBe('mcpd did not run fx__echo: plugin probe denied the call: guard says no.');
    const events = join(t.home, 'plugins', 'probe', 'events.jsonl');
    await waitFor(() => existsSync(events) && readFileSync(events, 'utf8').includes('"outcome":"denied"'), 5_000, 'the denied event');
  });
});

describe('faults', () => {
  it('a beforeToolCall that throws denies the call (fail closed); the daemon stays up', async () => {
    const t = await daemonWith([[PROBE, { tag: 'x', failIn: 'beforeToolCall' }]]);
    const client = await t.connect();
    const result = await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'x' } });
    expect(result.isError).toBe(true);
    expect(texts(result)[0]).toContain(
      'plugin probe failed while checking the call (x fails in beforeToolCall on purpose), so the call was denied',
    );
    const status = await client.request('status', {});
    expect(status.plugins[0]).toMatchObject({ failures: 1, lastError: { hook: 'beforeToolCall' } });
  });

  it('a beforeToolCall that hangs is timed out and denies the call', async () => {
    const t = await daemonWith([[PROBE, { tag: 'x', hangIn: 'beforeToolCall' }]]);
    const client = await t.connect();
    const result = await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'x' } });
    expect(texts(result)[0]).toContain('did not finish within 300 ms');
  });

  it('an afterToolCall or catalogue that throws or hangs has its change skipped, the rest applies', async () => {
    const t = await daemonWith([
      [PROBE, { tag: 'bad-after', failIn: 'afterToolCall' }],
      [PROBE, { tag: 'slow-catalogue', hangIn: 'catalogue' }],
      [PROBE, { tag: 'good' }],
    ]);
    const client = await t.connect();
    const { tools } = await client.request('tools.list', {});
    expect(tools.find((x) => x.name === 'fx__echo')!.description).toBe('Echoes its message [bad-after] [good]');
    const result = await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'm' } });
    expect(texts(result)).toEqual(['m+bad-after+slow-catalogue+good', 'after:slow-catalogue', 'after:good']);
  });

  it('a plugin that fails to load is reported with its name and error; the others load', async () => {
    const t = await daemonWith([
      './does-not-exist.ts',
      join(ROOT, 'test/fixtures/plugins/broken.ts'),
      join(ROOT, 'test/fixtures/plugins/not-a-plugin.mjs'),
      [PROBE, { tag: 'fails-setup', failIn: 'setup' }],
      [PROBE, { tag: 'fine' }],
    ]);
    const client = await t.connect();
    const status = await client.request('status', {});
    const failed = status.plugins.filter((p) => p.state === 'failed');
    expect(failed.map((p) => p.error)).toEqual([
      expect.stringContaining('cannot load ./does-not-exist.ts'),
      expect.stringContaining('cannot load'),
      expect.stringContaining('does not export a plugin'),
      expect.stringContaining('failed in setup: fails-setup fails in setup on purpose'),
    ]);
    expect(failed[1]!.error).toContain('broken.ts');
    expect(status.plugins.filter((p) => p.state === 'loaded')).toHaveLength(1);
    expect(texts(await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'm' } }))).toEqual(['m+fine', 'after:fine']);
  });

  it('a plugin whose setup hangs is given up on; a hanging onEvent blocks nothing', async () => {
    const t = await daemonWith([
      [PROBE, { tag: 'stuck', hangIn: 'setup' }],
      [PROBE, { tag: 'ev', hangIn: 'onEvent' }],
    ]);
    const client = await t.connect();
    const status = await client.request('status', {});
    expect(status.plugins.find((p) => p.state === 'failed')!.error).toContain('failed in setup: did not finish within 300 ms');
    await client.request('servers.restart', { name: 'fx' });
    expect((await client.request('status', {})).servers[0]!.state).toBe('running');
    expect(texts(await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'm' } }))).toEqual(['m+ev', 'after:ev']);
  });
});

describe('package plugins', () => {
  it("loads a plugin by package name, resolved from the config file's folder", async () => {
    const t = await startDaemon(
      { servers: { fx: fixtureEntry() }, plugins: [['mcpd-plugin-hello', { greeting: 'hola' }]] },
      {
        beforeStart: (dir) => {
          const pkg = join(dir, 'node_modules', 'mcpd-plugin-hello');
          mkdirSync(pkg, { recursive: true });
          writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'mcpd-plugin-hello', type: 'module', exports: './index.js' }));
          writeFileSync(
            join(pkg, 'index.js'),
            `export default { name: 'hello', setup(ctx, options) { return { afterToolCall(call, result) { return { ...result, content: [...result.content, { type: 'text', text: options.greeting }] }; } }; } };\n`,
          );
        },
      },
    );
    running.push(t);
    const client = await t.connect();
    expect((await client.request('status', {})).plugins).toMatchObject([
      { name: 'hello', specifier: 'mcpd-plugin-hello', state: 'loaded' },
    ]);
    expect(texts(await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'm' } }))).toEqual(['m', 'hola']);
  });
});

describe('reload', () => {
  it('adds and removes plugins when the list changes', async () => {
    const t = await daemonWith([]);
    const client = await t.connect();
    const call = async () => texts(await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'r' } }));
    expect(await call()).toEqual(['r']);
    t.writeConfig({ servers: { fx: fixtureEntry() }, plugins: [[PROBE, { tag: 'new' }]] });
    const added = await client.request('config.reload', {});
    expect(added).toMatchObject({ pluginsChanged: true, unchanged: ['fx'] });
    expect(await call()).toEqual(['r+new', 'after:new']);
    expect((await client.request('tools.list', {})).tools.find((x) => x.name === 'fx__echo')!.description).toContain('[new]');
    t.writeConfig({ servers: { fx: fixtureEntry() }, plugins: [] });
    await client.request('config.reload', {});
    expect(await call()).toEqual(['r']);
    expect((await client.request('status', {})).plugins).toEqual([]);
  });
});

describe('events', () => {
  it('onEvent and ctx.events see daemon events, tool calls with their caller', async () => {
    const t = await daemonWith([[PROBE, { tag: 'e', events: true }]]);
    const client = await t.connect();
    await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'x' } });
    await client.request('servers.restart', { name: 'fx' });
    const file = join(t.home, 'plugins', 'probe', 'events.jsonl');
    await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').includes('server:state'), 5_000, 'events');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toContainEqual({ via: 'onEvent', type: 'tool:called', caller: 'cli', outcome: 'ok' });
    expect(lines).toContainEqual({ via: 'ctx.events', type: 'tool:called' });
    expect(lines).toContainEqual({ via: 'onEvent', type: 'server:state' });
  });

  it('an App’s own calls come with caller "app"', async () => {
    const clock = appsServer('server-basic-vanillajs');
    const t = await startDaemon({ servers: { clock }, plugins: [[PROBE, { tag: 'e', events: true }]] });
    running.push(t);
    const client = await t.connect();
    const first = await client.request('tools.call', { name: 'clock__get-time', arguments: {} });
    await client.request('apps.call', { view: first.app!.view, name: 'get-time' });
    const file = join(t.home, 'plugins', 'probe', 'events.jsonl');
    await waitFor(
      () => (existsSync(file) && readFileSync(file, 'utf8').includes('"caller":"app"')) || undefined,
      5_000,
      'the App call event',
    );
    const callers = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['via'] === 'onEvent' && l['type'] === 'tool:called')
      .map((l) => l['caller']);
    expect(callers).toEqual(['cli', 'app']);
  });
});
