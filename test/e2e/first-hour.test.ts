/**
 * A newcomer's first hour, the messages that used to send people the wrong way: `server add`
 * typed in the server's folder (paths stored absolute, nothing kept that cannot start, the
 * command after --), guesses for typos (a subcommand, an option, a tool), an example call with
 * numbers as numbers, what a reload cannot apply, and tool counts after the plugins.
 */
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/protocol/types.js';
import { CLI, ROOT, fixtureEntry, freePort, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-first-hour-');
const home = join(dir.path, 'home');
const project = join(dir.path, 'weather');
const config = join(dir.path, 'xdg/mcpd/mcp.config.json');
const env = {
  PATH: `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? '/usr/bin:/bin'}`,
  HOME: dir.path,
  XDG_CONFIG_HOME: join(dir.path, 'xdg'),
  MCPD_HOME: home,
};

function mcpd(args: string[]) {
  return execa(process.execPath, [CLI, ...args], { reject: false, cwd: project, env, timeout: 60_000, stdin: 'ignore' });
}

function writeConfig(extra: Record<string, unknown> = {}): void {
  writeFileSync(
    config,
    JSON.stringify(
      {
        servers: { fx: fixtureEntry() },
        plugins: [[join(ROOT, 'plugins/tool-filter.ts'), { deny: ['weather__get_alerts'] }]],
        ...extra,
      },
      null,
      2,
    ),
  );
}

beforeAll(async () => {
  mkdirSync(project, { recursive: true });
  mkdirSync(dirname(config), { recursive: true });
  symlinkSync(join(ROOT, 'test/fixtures/tutorial/weather.js'), join(project, 'weather.js'));
  writeFileSync(join(project, 'crash.js'), "console.error('crash.js: no weather today'); process.exit(1);\n");
  writeFileSync(join(project, 'notexec.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(project, 'notexec.sh'), 0o644);
  writeConfig();
  const started = await mcpd(['start']);
  expect(started.exitCode, started.stderr).toBe(0);
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  dir.cleanup();
});

describe('mcpd server add, typed in the server folder', () => {
  it('stores the paths absolute (the config lives elsewhere), and the server runs', async () => {
    const added = await mcpd(['server', 'add', 'weather', '--', 'node', 'weather.js']);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Added server "weather" in ${config}.`);
    expect(added.stdout).toMatch(/weather: running, pid \d+/);
    const entry = (JSON.parse(readFileSync(config, 'utf8')) as { servers: Record<string, { args: string[]; cwd?: string }> }).servers;
    expect(entry['weather']!.args).toEqual([join(project, 'weather.js')]);
    const withCwd = await mcpd(['server', 'add', 'weather2', '--cwd', '.', '--', 'node', 'weather.js']);
    expect(withCwd.exitCode, withCwd.stderr).toBe(0);
    const second = (JSON.parse(readFileSync(config, 'utf8')) as { servers: Record<string, { args: string[]; cwd?: string }> }).servers;
    expect(second['weather2']).toMatchObject({ cwd: project, args: ['weather.js'] });
    expect(withCwd.stdout).toMatch(/weather2: running/);
  });

  it('keeps nothing that cannot start: not executable, not on PATH, or crashing at once', async () => {
    const before = readFileSync(config, 'utf8');
    const notExec = await mcpd(['server', 'add', 'bad', '--', './notexec.sh']);
    expect(notExec.exitCode).toBe(1);
    expect(notExec.stderr).toContain(`Not added: ${join(project, 'notexec.sh')} is not executable`);
    const missing = await mcpd(['server', 'add', 'bad', '--', 'no-such-mcp-server']);
    expect(missing.stderr).toContain('Not added: "no-such-mcp-server" is not on PATH');
    const crash = await mcpd(['server', 'add', 'crash', '--', 'node', 'crash.js']);
    expect(crash.exitCode).toBe(1);
    expect(crash.stderr).toContain('Server "crash" did not start');
    expect(crash.stderr).toContain('crash.js: no weather today');
    expect(crash.stderr).toContain(`Not added: ${config} is as it was.`);
    expect(readFileSync(config, 'utf8')).toBe(before);
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    expect(status.servers.map((s) => s.name)).not.toContain('crash');
  });

  it('says to put the command after --', async () => {
    const result = await mcpd(['server', 'add', 'weather3', 'weather.py']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe("The server's command goes after --: mcpd server add weather3 -- python3 weather.py");
  });
});

describe('messages that point the right way', () => {
  it('guesses a subcommand, an option and a tool', async () => {
    const sub = await mcpd(['server', 'restrat', 'fx']);
    expect(sub.exitCode).toBe(2);
    expect(sub.stderr).toContain('Unknown: mcpd server restrat. Did you mean "mcpd server restart"?');
    const option = await mcpd(['status', '--jsn']);
    expect(option.exitCode).toBe(2);
    expect(option.stderr.trim()).toBe(
      "Unknown option --jsn. Did you mean --json? (A server's own arguments go after --.) See: mcpd --help",
    );
    const tool = await mcpd(['call', 'fx__ehco', '{"message":"hi"}']);
    expect(tool.exitCode).toBe(1);
    expect(tool.stderr).toContain('No tool named "fx__ehco" in the catalogue. Did you mean "fx__echo"?');
  });

  it('tools TOOL: an example call with numbers as numbers', async () => {
    const result = await mcpd(['tools', 'weather__get_forecast']);
    expect(result.stdout).toContain(`Call it with: mcpd call weather__get_forecast '{"latitude":1,"longitude":1}'`);
    const echo = await mcpd(['tools', 'fx__echo']);
    expect(echo.stdout).toContain(`Call it with: mcpd call fx__echo '{"message":"…"}'`);
  });

  it('counts tools as published: a tool a plugin hides is not counted', async () => {
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as DaemonStatus;
    expect(status.servers.find((s) => s.name === 'weather')!.toolCount).toBe(1);
    const tools = JSON.parse((await mcpd(['tools', '--json'])).stdout) as { server: string }[];
    expect(tools.filter((t) => t.server === 'weather')).toHaveLength(1);
    expect(status.toolCount).toBe(tools.length);
  });

  it('reload says what it cannot apply, every time until the restart', async () => {
    const current = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    writeFileSync(config, JSON.stringify({ ...current, gateway: { http: { port: await freePort() } } }, null, 2));
    for (let i = 0; i < 2; i++) {
      const reload = await mcpd(['reload']);
      expect(reload.exitCode, reload.stderr).toBe(0);
      expect(reload.stdout).toContain('gateway.http: changed, but only a restart applies it');
    }
    const json = JSON.parse((await mcpd(['reload', '--json'])).stdout) as { needsRestart: string[] };
    expect(json.needsRestart).toEqual(['gateway.http']);
  });
});
