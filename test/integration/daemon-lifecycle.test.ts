/**
 * The daemon's edges, in process with real servers: work that arrives while it stops, a reload
 * that races a start, the file watcher against `mcpd reload`, plugins swapped on reload, resource
 * and prompt hooks, one daemon per home, a home that cannot be trusted, and what may be reaped.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ControlClient } from '../../src/client/control-client.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { isMcpdError } from '../../src/errors.js';
import type { DaemonStatus, ServerStateEvent } from '../../src/protocol/types.js';
import { fixtureEntry, pidAlive, ROOT, tempDir, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let t: TestDaemon | undefined;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  await t?.stop();
  t = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Every pid a daemon's servers had, from their state events. */
function trackPids(daemon: Daemon): Set<number> {
  const pids = new Set<number>();
  daemon.supervisor.on('state', (e: ServerStateEvent) => {
    if (e.status.pid !== null) pids.add(e.status.pid);
  });
  return pids;
}

describe('work that arrives while the daemon stops', () => {
  it('a stop during a slow start ends the start, refuses new work, and leaves nothing running', async () => {
    const dir = tempDir('mcpd-dl-');
    cleanups.push(dir.cleanup);
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ servers: { slow: fixtureEntry({ FIXTURE_SLOW_INIT_MS: '120000' }, { timeouts: { startupMs: 200_000 } }) } }),
    );
    const home = join(dir.path, 'home');
    let daemon: Daemon | undefined;
    let pids = new Set<number>();
    const starting = Daemon.start({
      home,
      configFile,
      watchConfig: true,
      env: {},
      onCreated: (d) => {
        daemon = d;
        pids = trackPids(d);
      },
    });
    const pid = await waitFor(() => daemon?.supervisor.list()[0]?.status().pid ?? undefined, 10_000, 'the slow server to spawn');
    pids.add(pid);
    // The fronts listen once their code is in, which may be after the first spawn.
    const client = await waitFor(
      () => ControlClient.connect({ socketPath: join(home, 'mcpd.sock') }).catch(() => undefined),
      10_000,
      'the control socket to listen',
    );
    await client.request('daemon.stop', {});
    // Returns, rather than going on as if nothing happened: the slow initialize (longer than the
    // test may take) was cut short.
    const started = await starting;
    expect(started.closed).toBe(true);
    await started.stopped;
    expect(started.status().ready).toBe(false);
    await expect(started.reload()).rejects.toMatchObject({ code: 'MCPD_CLOSED' });
    // A server added to the config now starts nowhere: nothing watches any more.
    writeFileSync(configFile, JSON.stringify({ servers: { slow: fixtureEntry(), late: fixtureEntry() } }));
    await new Promise((r) => setTimeout(r, 600));
    expect(daemon!.supervisor.list().map((s) => s.state)).toEqual(['disposed']);
    expect([...pids].every((p) => !pidAlive(p))).toBe(true);
  });

  it('requests that arrive while servers are being stopped get MCPD_CLOSED', async () => {
    t = await startDaemon({ servers: { deaf: fixtureEntry({ FIXTURE_IGNORE_SIGTERM: '1' }), fx: fixtureEntry() } });
    const client = await t.connect();
    const stopping = t.daemon.stop('test');
    for (const [method, params] of [
      ['servers.start', { name: 'fx' }],
      ['servers.restart', { name: 'fx' }],
      ['config.reload', {}],
      ['tools.call', { name: 'fx__echo', arguments: { message: 'x' } }],
      ['chat.send', { message: 'hi' }],
    ] as const) {
      await expect(client.request(method, params as never), method).rejects.toMatchObject({ code: 'MCPD_CLOSED' });
    }
    await stopping;
  }, 20_000);
});

describe('while the daemon is still starting', () => {
  it('a bridge client is served (its code loads on demand), and daemon:ready comes once, after the last first start', async () => {
    const dir = tempDir('mcpd-dl-');
    cleanups.push(dir.cleanup);
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        servers: { fx: fixtureEntry(), slow: fixtureEntry({ FIXTURE_SLOW_INIT_MS: '120000' }, { timeouts: { startupMs: 200_000 } }) },
      }),
    );
    const home = join(dir.path, 'home');
    let daemon: Daemon | undefined;
    const starting = Daemon.start({ home, configFile, env: {}, onCreated: (d) => (daemon = d) });
    cleanups.push(async () => {
      await daemon?.stop('test');
    });
    const client = await waitFor(
      () => ControlClient.connect({ socketPath: join(home, 'mcpd.sock') }).catch(() => undefined),
      10_000,
      'the control socket to listen',
    );
    cleanups.push(() => client.close());
    const heard: string[] = [];
    const readies: DaemonStatus[] = [];
    client.on('server:state', (e) => heard.push(`${e.server} ${e.state}`));
    client.on('daemon:ready', (status) => {
      heard.push('ready');
      readies.push(status);
    });
    await client.subscribe(['server:state', 'daemon:ready']);
    await waitFor(() => daemon?.supervisor.get('fx').state === 'running' || undefined, 10_000, 'fx to run');

    // The bridge's way in, before the daemon is ready (slow cannot be): its MCP sessions' code
    // is loaded by this first connection.
    const ws = new WebSocket(`ws+unix://${join(home, 'mcp.sock')}:/mcp`);
    cleanups.push(() => ws.terminate());
    const answers: Record<number, { result?: { tools?: { name: string }[] } }> = {};
    ws.on('message', (data) => {
      const message = JSON.parse((data as Buffer).toString('utf8')) as { id?: number; result?: { tools?: { name: string }[] } };
      if (typeof message.id === 'number') answers[message.id] = message;
    });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const send = (message: unknown) => ws.send(JSON.stringify(message));
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'early', version: '1' } },
    });
    await waitFor(() => answers[1], 10_000, 'the answer to initialize');
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    const listed = await waitFor(() => answers[2], 10_000, 'the tool list');
    expect(listed.result?.tools?.map((t) => t.name)).toContain('fx__echo');
    expect(daemon!.status().ready).toBe(false);
    expect(readies).toEqual([]);

    // The slow server's first start ends (stopped): now, and only now, the daemon is ready.
    await client.request('servers.stop', { name: 'slow' });
    await waitFor(() => readies.length > 0 || undefined, 10_000, 'daemon:ready');
    await starting;
    expect(readies).toHaveLength(1);
    expect(readies[0]).toMatchObject({ ready: true });
    expect(readies[0]!.servers.map((s) => [s.name, s.state])).toEqual([
      ['fx', 'running'],
      ['slow', 'stopped'],
    ]);
    expect(heard.indexOf('slow stopped')).toBeGreaterThan(-1);
    expect(heard.indexOf('ready')).toBeGreaterThan(heard.indexOf('slow stopped'));
    expect(heard.filter((h) => h === 'ready')).toHaveLength(1);
  }, 60_000);
});

describe('a reload that removes a server', () => {
  it('racing servers.start of it: no process survives, and a late start is refused', async () => {
    const base = { servers: { fx: fixtureEntry(), other: fixtureEntry() } };
    t = await startDaemon(base);
    const pids = trackPids(t.daemon);
    const client = await t.connect();
    for (let round = 0; round < 4; round += 1) {
      await client.request('servers.stop', { name: 'fx' });
      t.writeConfig({ servers: { other: fixtureEntry() } });
      const start = client.request('servers.start', { name: 'fx' }).then(
        (r) => r.server.state,
        (e: unknown) => (e as { code: string }).code,
      );
      await new Promise((r) => setTimeout(r, round * 20));
      const reload = await t.daemon.reload();
      expect(reload.removed).toEqual(['fx']);
      expect(['MCPD_CLOSED', 'MCPD_SERVER_UNKNOWN', 'running', 'disposed']).toContain(await start);
      expect(t.daemon.status().servers.map((s) => s.name)).toEqual(['other']);
      await expect(client.request('servers.start', { name: 'fx' })).rejects.toMatchObject({ code: 'MCPD_SERVER_UNKNOWN' });
      t.writeConfig(base);
      await t.daemon.reload();
    }
    await t.stop();
    t = undefined;
    expect([...pids].filter((p) => pidAlive(p))).toEqual([]);
  });
});

describe('the file watcher and mcpd reload', () => {
  it('a requested reload reports every change since the last request, the watcher’s included', async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry() } }, { watchConfig: true });
    const client = await t.connect();
    await client.subscribe(['config:reloaded']);
    const broadcasts: string[] = [];
    client.on('config:reloaded', (r) => broadcasts.push(r.trigger));
    t.writeConfig({ servers: { fx: fixtureEntry(), extra: fixtureEntry() } });
    await waitFor(() => t!.daemon.supervisor.has('extra'), 5_000, 'the watcher to apply it');
    const result = await client.request('config.reload', {});
    expect(result).toMatchObject({ added: ['extra'], removed: [], trigger: 'request' });
    expect(broadcasts).toContain('watcher');
    // And once reported, it is not reported again.
    expect((await client.request('config.reload', {})).added).toEqual([]);
  });

  it('a config on disk that fails to load shows in status until a good one loads', async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry() } }, { watchConfig: true });
    writeFileSync(t.configFile, '{ "servers": { "fx": { "command": 7 } } }');
    const status = await waitFor(() => t!.daemon.status().configError ?? undefined, 5_000, 'the error in status');
    expect(status.message).toContain('servers.fx.command');
    expect(t.daemon.status().servers.map((s) => s.state)).toEqual(['running']);
    t.writeConfig({ servers: { fx: fixtureEntry() } });
    await waitFor(() => t!.daemon.status().configError === null, 5_000, 'the error to clear');
  });
});

describe('plugins on reload, and on resources and prompts', () => {
  const probe = join(ROOT, 'test/fixtures/plugins/probe.ts');

  it('redact-secrets applies to resources.read and prompts.get too', async () => {
    t = await startDaemon({ servers: { fx: fixtureEntry() }, plugins: [join(ROOT, 'plugins/redact-secrets.ts')] });
    const client = await t.connect();
    const read = await client.request('resources.read', { uri: 'fixture://secret' });
    expect(JSON.stringify(read)).not.toContain('sk-ant-fixture');
    expect(read.contents[0]!['text']).toContain('[REDACTED Anthropic key]');
    const prompt = await client.request('prompts.get', { name: 'fx__secret_prompt' });
    expect(JSON.stringify(prompt)).not.toContain('sk-ant-fixture');
    expect(JSON.stringify(prompt)).toContain('[REDACTED Anthropic key]');
  });

  it('a reload loads the new guard before the old one goes; a guard that fails to load fails calls closed', async () => {
    const config = (options: Record<string, unknown>) => ({
      servers: { fx: fixtureEntry() },
      plugins: [[probe, { tag: 'g', deny: ['fx__echo'], ...options }]],
    });
    t = await startDaemon(config({}));
    const client = await t.connect();
    const denied = async () => JSON.stringify(await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'x' } }));
    expect(await denied()).toContain('g says no');
    // During a reload whose plugin setup is slow, every call is still checked.
    t.writeConfig(config({ tag: 'g2', setupDelayMs: 250 }));
    const reload = t.daemon.reload();
    const during: string[] = [];
    while (during.length < 8) during.push(await denied());
    await reload;
    expect(during.every((text) => text.includes('says no'))).toBe(true);
    // A guard that fails to load: calls fail closed, naming it.
    t.writeConfig(config({ failIn: 'setup' }));
    await t.daemon.reload();
    const closed = await denied();
    expect(closed).toContain('guards tool calls but failed to load');
    expect(closed).not.toContain('"x"');
    // Fixed: calls are checked by it again.
    t.writeConfig(config({}));
    await t.daemon.reload();
    expect(await denied()).toContain('g says no');
  });
});

describe('one daemon per home', () => {
  it('two daemons started at once on one home: one runs, the other is refused', async () => {
    const dir = tempDir('mcpd-lock-');
    cleanups.push(dir.cleanup);
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(configFile, JSON.stringify({ servers: { fx: fixtureEntry() } }));
    const home = join(dir.path, 'home');
    const outcomes = await Promise.allSettled([0, 1, 2].map(() => Daemon.start({ home, configFile, watchConfig: false, env: {} })));
    const winners = outcomes.filter((o): o is PromiseFulfilledResult<Daemon> => o.status === 'fulfilled').map((o) => o.value);
    expect(winners).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(isMcpdError(o.reason, 'MCPD_DAEMON_ALREADY_RUNNING')).toBe(true);
    const client = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
    expect(client.daemon.pid).toBe(process.pid);
    client.close();
    await winners[0]!.stop();
    // The lock goes with it: the home can be used again.
    const again = await Daemon.start({ home, configFile, watchConfig: false, env: {} });
    await again.stop();
  });

  it('a home writable by others, or owned by another user, is refused with how to fix it', async () => {
    const dir = tempDir('mcpd-unsafe-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    mkdirSync(home);
    chmodSync(home, 0o777);
    const start = () => Daemon.start({ home, configFile: join(ROOT, 'mcp.config.json'), watchConfig: false, env: {} });
    await expect(start()).rejects.toMatchObject({ code: 'MCPD_HOME_UNSAFE', message: expect.stringContaining(`chmod 700 ${home}`) });
    if (process.getuid?.() === 0) {
      chmodSync(home, 0o700);
      chownSync(home, 65534, 65534);
      await expect(start()).rejects.toMatchObject({
        code: 'MCPD_HOME_UNSAFE',
        message: expect.stringContaining('belongs to another user'),
      });
    }
  });

  it('a children.json that names an unrelated process group does not get it killed', async () => {
    const dir = tempDir('mcpd-plant-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    mkdirSync(home, { mode: 0o700 });
    const bystander = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    cleanups.push(() => void bystander.kill('SIGKILL'));
    const pid = bystander.pid!;
    const startTime = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    writeFileSync(join(home, 'children.json'), JSON.stringify([{ pgid: pid, server: 'planted', startTime, instance: 'not-ours' }]));
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(configFile, JSON.stringify({ servers: {} }));
    const daemon = await Daemon.start({ home, configFile, watchConfig: false, env: {} });
    try {
      expect(pidAlive(pid)).toBe(true);
      expect(daemon.logs.read('daemon', 50).some((e) => e.text.includes(`left process group ${pid}`))).toBe(true);
    } finally {
      await daemon.stop();
    }
  });
});
