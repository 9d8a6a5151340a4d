/**
 * The `mcpd` binary as a user runs it, in a temp --home: start, status, tools, call, server
 * actions, logs, reload, config check, stop; and the daemon's own crash (SIGKILL) followed by a
 * start that reaps what it left.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus, ToolEntry } from '../../src/protocol/types.js';
import { CLI, fixtureEntry, pidAlive, tempDir, waitFor } from '../support/fixtures.js';

const dir = tempDir('mcpd-e2e-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
const grandchildFile = join(dir.path, 'grandchild.pid');

function mcpd(args: string[], options: { env?: Record<string, string>; cwd?: string; input?: string } = {}) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    cwd: options.cwd ?? dir.path,
    env: { MCPD_HOME: home, ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
    timeout: 60_000,
  });
}

beforeAll(() => {
  writeFileSync(
    configFile,
    JSON.stringify(
      { servers: { fx: fixtureEntry({ FIXTURE_GRANDCHILD: grandchildFile }), off: { command: 'nothing', disabled: true } } },
      null,
      2,
    ),
  );
});

afterAll(async () => {
  await mcpd(['stop']);
  dir.cleanup();
});

describe('mcpd without a daemon', () => {
  it('says so in one line, how to start it, and exits 3', async () => {
    // tools, call and chat start a daemon when none runs, unless --no-start (tutorial.test.ts).
    for (const command of [
      ['status'],
      ['tools', '--no-start'],
      ['call', 'x__y', '--no-start'],
      ['chat', '-p', 'hi', '--no-start'],
      ['logs'],
      ['reload'],
      ['server', 'restart', 'fx'],
      ['stop'],
    ]) {
      const result = await mcpd(command);
      expect(result.exitCode, command.join(' ')).toBe(3);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain('mcpd start');
    }
  });

  it('prints usage errors with exit 2', async () => {
    expect((await mcpd(['frobnicate'])).exitCode).toBe(2);
    expect((await mcpd(['status', '--bogus'])).exitCode).toBe(2);
    const tooLong = await mcpd(['call', 'x__y', '--timeout', '3000000000']);
    expect(tooLong.exitCode).toBe(2);
    expect(tooLong.stderr).toContain('--timeout takes a whole number from 1 to 2147483647');
    // A typo gets a suggestion; words a command does not take are refused, never ignored.
    expect((await mcpd(['stauts'])).stderr).toContain('Did you mean "mcpd status"?');
    const stopHelp = await mcpd(['stop', 'help']);
    expect([stopHelp.exitCode, stopHelp.stderr]).toEqual([2, 'mcpd stop does not take "help". See: mcpd --help']);
    const help = await mcpd(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('mcpd call TOOL'.replace('mcpd ', ''));
  });
});

describe('config check', () => {
  it('validates a good file and lists every problem of a bad one with its path', async () => {
    const good = await mcpd(['config', 'check', configFile]);
    expect(good.exitCode).toBe(0);
    expect(good.stdout).toContain('OK — 2 servers (1 enabled): fx, off');
    const bad = join(dir.path, 'bad.json');
    writeFileSync(bad, JSON.stringify({ mcpServers: { gh: { command: 'gh', env: { TOKEN: 1 } }, web: { url: 'nope' } } }));
    const result = await mcpd(['config', 'check', bad]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('mcpServers.gh.env.TOKEN:');
    expect(result.stderr).toContain('mcpServers.web.url:');
    const json = JSON.parse((await mcpd(['config', 'check', bad, '--json'])).stdout) as { ok: boolean; problems: unknown[] };
    expect(json).toMatchObject({ ok: false });
    expect(json.problems).toHaveLength(2);
  });

  it('finds the config from the working folder', async () => {
    const result = await mcpd(['config', 'check'], { cwd: dir.path });
    expect(result.stdout).toContain(configFile);
  });
});

describe('a daemon started in the background', () => {
  it('starts, waits until ready, and prints a summary', async () => {
    const result = await mcpd(['start', '--config', configFile]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('mcpd started');
    expect(result.stdout).toMatch(/fx\s+running/);
    expect(result.stdout).toMatch(/off\s+disabled/);
    const again = await mcpd(['start', '--config', configFile]);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('already running');
  });

  it('status --json and tools --json are stable JSON', async () => {
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    expect(status).toMatchObject({ ready: true, home, configFile, socket: join(home, 'mcpd.sock') });
    expect(status.servers.find((s) => s.name === 'fx')).toMatchObject({ state: 'running', restarts: 0, lastError: null });
    const tools = JSON.parse((await mcpd(['tools', '--json'])).stdout) as ToolEntry[];
    expect(tools.map((t) => t.name)).toContain('fx__echo');
    const human = await mcpd(['tools', 'fx']);
    expect(human.stdout).toMatch(/fx__echo\s+fx\s+Echoes its message/);
  });

  it('calls tools: text out, exit 1 on a tool error, exit 2 on bad JSON, arguments from stdin', async () => {
    const ok = await mcpd(['call', 'fx__echo', '{"message":"hi"}']);
    expect([ok.exitCode, ok.stdout]).toEqual([0, 'hi']);
    const json = JSON.parse((await mcpd(['call', 'fx__echo', '{"message":"hi"}', '--json'])).stdout) as unknown;
    expect(json).toEqual({ content: [{ type: 'text', text: 'hi' }] });
    const failed = await mcpd(['call', 'fx__fail']);
    expect([failed.exitCode, failed.stderr]).toEqual([1, 'it failed on purpose']);
    expect((await mcpd(['call', 'fx__echo', '{not json'])).exitCode).toBe(2);
    const piped = await mcpd(['call', 'fx__echo', '-'], { input: '{"message":"from stdin"}' });
    expect(piped.stdout).toBe('from stdin');
    const unknown = await mcpd(['call', 'fx__ech']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('No tool named "fx__ech"');
    // The server asks the person something: without a terminal, declined with a clear message.
    const asked = await mcpd(['call', 'fx__ask']);
    expect([asked.exitCode, asked.stdout]).toEqual([0, 'no answer (decline)']);
    expect(asked.stderr).toContain('The server asked: "What is your name?" — declined: no terminal to answer on.');
    // On a terminal (a pseudo-terminal here), the person answers the form.
    const pty = execa('script', ['-qfec', `"${process.execPath}" "${CLI}" call fx__ask`, '/dev/null'], {
      env: { MCPD_HOME: home, TERM: 'dumb' },
      cwd: dir.path,
      reject: false,
      stdin: 'pipe',
      timeout: 30_000,
    });
    let screen = '';
    pty.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    await waitFor(() => screen.includes('name *'), 10_000, `the form:\n${screen}`);
    pty.stdin.write('Ada\r');
    await pty;
    expect(screen).toContain('What is your name?');
    expect(screen).toContain('hello Ada');
    // Progress goes to stderr (a live line on a terminal, one line each here); stdout stays the result.
    const progress = await mcpd(['call', 'fx__progress', '{"ms":250,"every":50}']);
    expect(progress.stdout).toBe('worked 250 ms');
    expect(progress.stderr).toContain('[progress 1/5]');
    expect(progress.stderr).toContain('[progress 5/5]');
  });

  it('stops, starts and restarts one server', async () => {
    const stop = await mcpd(['server', 'stop', 'fx']);
    expect([stop.exitCode, stop.stdout]).toEqual([0, 'fx: stopped']);
    const down = await mcpd(['call', 'fx__echo', '{"message":"x"}']);
    expect(down.stderr).toContain('Server "fx" is stopped, so "fx__echo" is not available');
    const start = await mcpd(['server', 'start', 'fx']);
    expect(start.stdout).toMatch(/^fx: running, pid \d+, \d+ tools$/);
    const restart = await mcpd(['server', 'restart', 'fx']);
    expect(restart.exitCode).toBe(0);
    expect((await mcpd(['server', 'restart', 'ghost'])).stderr).toContain('No server named "ghost"');
  });

  it('shows logs, and follows them with -f', async () => {
    const logs = await mcpd(['logs', 'fx', '-n', '20']);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain('fx | state starting → running');
    const follower: ResultPromise = execa(process.execPath, [CLI, 'logs', 'fx', '-f', '-n', '0'], {
      env: { MCPD_HOME: home },
      reject: false,
    });
    let seen = '';
    follower.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
    });
    await new Promise((r) => setTimeout(r, 500));
    await mcpd(['server', 'restart', 'fx']);
    await waitFor(() => seen.includes('state stopping → stopped') && seen.includes('state starting → running'), 10_000, 'followed lines');
    follower.kill('SIGINT');
    expect((await follower).exitCode).toBe(0);
    // An unknown source: the error and exit 1, rather than hanging (as it once did).
    const unknown = await mcpd(['logs', 'nosuch']);
    expect([unknown.exitCode, unknown.stderr]).toEqual([1, 'No server named "nosuch" in the config (servers: fx, off).']);
    // A reader that stops early (| head -1) ends the output quietly, every time.
    for (let i = 0; i < 5; i += 1) {
      for (const command of ['tools', 'logs']) {
        const piped = await execa('sh', ['-c', `"${process.execPath}" "${CLI}" ${command} | head -1`], {
          env: { MCPD_HOME: home },
          reject: false,
        });
        expect(piped.stderr).toBe('');
      }
    }
  });

  it('reloads only what changed, and refuses a broken config keeping the running one', async () => {
    const original = readFileSync(configFile, 'utf8');
    const config = JSON.parse(original) as { servers: Record<string, unknown> };
    config.servers['extra'] = fixtureEntry();
    writeFileSync(configFile, JSON.stringify(config));
    const ok = await mcpd(['reload']);
    expect(ok.stdout).toContain('added: extra; removed: none; changed: none; unchanged: 2');
    writeFileSync(configFile, '{ "servers": { "fx": { "command": 7 } } }');
    const refused = await mcpd(['reload']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('servers.fx.command');
    const human = await mcpd(['status']);
    expect(human.stdout).toContain('the file on disk failed to load');
    expect(human.stdout).toContain('servers.fx.command');
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    expect(status.configError!.message).toContain('servers.fx.command');
    expect(status.servers.map((s) => [s.name, s.state])).toEqual([
      ['fx', 'running'],
      ['off', 'disabled'],
      ['extra', 'running'],
    ]);
    writeFileSync(configFile, original);
    expect((await mcpd(['reload'])).stdout).toContain('removed: extra');
  });

  it('stop waits until the daemon and every server (and grandchild) are gone', async () => {
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    const serverPid = status.servers.find((s) => s.name === 'fx')!.pid!;
    const grandchild = Number(readFileSync(grandchildFile, 'utf8'));
    const stop = await mcpd(['stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(stop.stdout).toContain(`mcpd stopped (pid ${status.pid})`);
    expect(pidAlive(status.pid)).toBe(false);
    expect(pidAlive(serverPid)).toBe(false);
    expect(pidAlive(grandchild)).toBe(false);
    expect(existsSync(join(home, 'mcpd.sock'))).toBe(false);
  }, 30_000);
});

describe('after the daemon itself is SIGKILLed', () => {
  it('the next start reaps the server processes it left', async () => {
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    const orphan = status.servers.find((s) => s.name === 'fx')!.pid!;
    const grandchild = Number(readFileSync(grandchildFile, 'utf8'));
    process.kill(status.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(status.pid), 5_000, 'daemon dead');
    expect(pidAlive(orphan)).toBe(true); // its own process group: the kill did not reach it
    const restart = await mcpd(['start', '--config', configFile]);
    expect(restart.exitCode, restart.stderr).toBe(0);
    await waitFor(() => !pidAlive(orphan) && !pidAlive(grandchild), 10_000, 'leftovers reaped');
    const logs = await mcpd(['logs', 'daemon']);
    expect(logs.stdout).toContain(`reaped process group ${orphan}`);
    expect((await mcpd(['stop'])).exitCode).toBe(0);
  }, 40_000);
});

describe('a plugin that throws outside its hooks', () => {
  it('is blamed by name and the daemon stays up', async () => {
    const pluginHome = join(dir.path, 'plugin-home');
    const config = join(dir.path, 'stray.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        servers: { fx: fixtureEntry() },
        plugins: [[join(import.meta.dirname, '../fixtures/plugins/probe.ts'), { tag: 'stray', throwLaterMs: 0 }]],
      }),
    );
    const env = { MCPD_HOME: pluginHome };
    expect((await mcpd(['start', '--config', config], { env })).exitCode).toBe(0);
    try {
      await waitFor(
        async () => (await mcpd(['logs', 'daemon', '-n', '50'], { env })).stdout.includes('plugin probe threw outside a hook'),
        // A plugin in TypeScript is loaded through tsx: slow on a loaded machine.
        30_000,
        'the plugin to be blamed',
      );
      const status = JSON.parse((await mcpd(['status', '--json'], { env })).stdout) as DaemonStatus;
      expect(status.plugins[0]).toMatchObject({
        name: 'probe',
        state: 'loaded',
        lastError: { hook: 'outside a hook', message: 'stray throws from its own timer' },
      });
      expect((await mcpd(['call', 'fx__echo', '{"message":"alive"}'], { env })).stdout).toBe('alive+stray\nafter:stray');
    } finally {
      await mcpd(['stop'], { env });
    }
  }, 90_000);
});

describe('mcpd serve (foreground)', () => {
  it('prints a ready banner, and Ctrl-C stops it and every server', async () => {
    const serveHome = join(dir.path, 'serve-home');
    const serve = execa(process.execPath, [CLI, 'serve', '--home', serveHome, '--config', configFile], { reject: false });
    let out = '';
    serve.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.includes('Ctrl-C stops the daemon'), 20_000, 'the ready banner');
    expect(out).toContain('is ready');
    expect(out).toContain(`socket ${join(serveHome, 'mcpd.sock')}`);
    expect(out).toContain(`--home ${serveHome}`);
    // The example call is of a tool that exists here.
    expect(out).toContain(`npx mcpd call fx__echo '{"message":"hi"}' --home ${serveHome}`);
    const status = JSON.parse((await mcpd(['status', '--json', '--home', serveHome])).stdout) as DaemonStatus;
    const serverPid = status.servers.find((s) => s.name === 'fx')!.pid!;
    serve.kill('SIGINT');
    const result = await serve;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('stopping (SIGINT)');
    expect(pidAlive(serverPid)).toBe(false);
  }, 40_000);
});
