/**
 * `mcpd connect HOST` and `mcpd import --from HOST` against each host's own config file (in a
 * temp HOME and XDG_CONFIG_HOME, never the real ones): the bridge entry written (backup first,
 * idempotent, --dry-run), spawned exactly as the host would and answering with the daemon's
 * tools; `disconnect` takes it out and leaves the rest; `import` copies a host's servers.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { parse } from 'jsonc-parser';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURE, fixtureEntry, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-connect-');
const fakeHome = join(dir.path, 'user');
const xdg = join(fakeHome, '.config');
const mcpdHome = join(dir.path, 'mcpd-home');
const project = join(dir.path, 'project');
const env = { HOME: fakeHome, XDG_CONFIG_HOME: xdg, MCPD_HOME: mcpdHome };
const files: Record<string, string> = {
  'claude-desktop': join(xdg, 'Claude', 'claude_desktop_config.json'),
  'claude-code': join(fakeHome, '.claude.json'),
  cursor: join(fakeHome, '.cursor', 'mcp.json'),
  vscode: join(xdg, 'Code', 'User', 'mcp.json'),
};

function mcpd(args: string[], cwd = project) {
  return execa(process.execPath, [CLI, ...args], { reject: false, cwd, env, timeout: 60_000 });
}

beforeAll(async () => {
  mkdirSync(project, { recursive: true });
  writeFileSync(join(project, 'mcp.config.json'), JSON.stringify({ servers: { fx: fixtureEntry() } }));
  // Hosts with servers of their own, and VS Code's file with a comment.
  mkdirSync(dirname(files['claude-desktop']!), { recursive: true });
  writeFileSync(
    files['claude-desktop']!,
    JSON.stringify(
      {
        mcpServers: { mine: { command: process.execPath, args: [FIXTURE, '--mine'] }, dup: { command: process.execPath, args: [FIXTURE] } },
        globalShortcut: 'Ctrl+Space',
      },
      null,
      2,
    ),
  );
  mkdirSync(dirname(files.vscode!), { recursive: true });
  writeFileSync(
    files.vscode!,
    '// my VS Code servers\n{\n  "servers": {\n    "web": { "type": "http", "url": "https://example.com/mcp" }\n  }\n}\n',
  );
  expect((await mcpd(['start'])).exitCode).toBe(0);
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  dir.cleanup();
});

async function spawnAsHost(entry: { command: string; args: string[] }): Promise<string[]> {
  const client = new Client({ name: 'host', version: '1' });
  // Hosts start servers from a folder of their own, with their own PATH.
  await client.connect(
    new StdioClientTransport({
      command: entry.command,
      args: entry.args,
      cwd: fakeHome,
      env: { HOME: fakeHome, MCPD_HOME: mcpdHome, PATH: '/usr/bin:/bin' },
      stderr: 'ignore',
    }),
  );
  try {
    return (await client.listTools()).tools.map((t) => t.name);
  } finally {
    await client.close();
  }
}

describe('mcpd connect / disconnect', () => {
  for (const host of ['claude-desktop', 'claude-code', 'cursor', 'vscode']) {
    it(`${host}: writes the bridge entry, which works as the host spawns it; twice changes nothing; disconnect takes it out`, async () => {
      const file = files[host]!;
      const dry = await mcpd(['connect', host, '--dry-run']);
      expect(dry.stdout).toContain(`Would change ${file}`);
      const connected = await mcpd(['connect', host]);
      expect(connected.exitCode, connected.stderr).toBe(0);
      const config = parse(readFileSync(file, 'utf8')) as Record<
        string,
        Record<string, { type?: string; command: string; args: string[] }>
      >;
      const entry = (host === 'vscode' ? config['servers'] : config['mcpServers'])!['mcpd']!;
      expect(entry.args.slice(1, 2)).toEqual(['bridge']);
      if (host === 'vscode' || host === 'claude-code') expect(entry.type).toBe('stdio');
      // A file mcpd creates holds the host's key only (Claude Code reads no "servers").
      if (host !== 'vscode') expect(config['servers']).toBeUndefined();
      expect(await spawnAsHost(entry)).toContain('fx__echo');
      const again = await mcpd(['connect', host]);
      expect(again.stdout).toContain('connected already');
      const backups = readdirSync(dirname(file)).filter((f) => f.includes('.mcpd-backup-'));
      const disconnected = await mcpd(['disconnect', host]);
      expect(disconnected.stdout).toContain('removed "mcpd"');
      const after = readFileSync(file, 'utf8');
      expect(after).not.toContain('"mcpd"');
      if (host === 'claude-desktop') expect(after).toContain('"mine"');
      if (host === 'vscode') expect(after).toContain('// my VS Code servers');
      expect(readdirSync(dirname(file)).filter((f) => f.includes('.mcpd-backup-')).length).toBeGreaterThan(backups.length - 1);
    });
  }

  it('--profile and --server name the entry and pass on', async () => {
    expect((await mcpd(['connect', 'cursor', '--server', 'fx'])).exitCode).toBe(0);
    const config = JSON.parse(readFileSync(files.cursor!, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> };
    expect(config.mcpServers['mcpd-fx']!.args).toEqual(expect.arrayContaining(['bridge', '--server', 'fx']));
    expect(await spawnAsHost(config.mcpServers['mcpd-fx']!)).toContain('echo');
    expect((await mcpd(['connect', 'nowhere'])).exitCode).toBe(2);
    // A name the config does not have would be an entry the host fails on: nothing is written.
    const before = readFileSync(files.cursor!, 'utf8');
    const typo = await mcpd(['connect', 'cursor', '--server', 'fxx']);
    expect(typo.exitCode).toBe(1);
    expect(typo.stderr).toContain('No server named "fxx" in');
    expect(typo.stderr).toContain('did you mean "fx"?');
    expect((await mcpd(['connect', 'cursor', '--profile', 'nope'])).stderr).toContain('No profile named "nope"');
    expect(readFileSync(files.cursor!, 'utf8')).toBe(before);
  });
});

describe('mcpd import', () => {
  it("copies a host's servers, skipping what mcpd has and its own bridge; --dry-run writes nothing", async () => {
    expect((await mcpd(['connect', 'claude-desktop'])).exitCode).toBe(0);
    const before = readFileSync(join(project, 'mcp.config.json'), 'utf8');
    const dry = await mcpd(['import', '--from', 'claude-desktop', '--dry-run']);
    expect(dry.stdout).toContain('would add: mine');
    expect(dry.stdout).toContain("skipped: mcpd (mcpd's own bridge)");
    expect(dry.stdout).toContain("skipped: dup (the same server is in mcpd's config under another name)");
    expect(readFileSync(join(project, 'mcp.config.json'), 'utf8')).toBe(before);
    const done = await mcpd(['import', '--from', 'claude-desktop']);
    expect(done.stdout).toContain('added: mine');
    // The daemon runs on that config: they are started, and said so (no "run mcpd reload").
    expect(done.stdout).toMatch(/mine: running, pid \d+/);
    expect(done.stdout).toContain('mcpd import --from claude-desktop --move takes them out of its file');
    expect((await mcpd(['import', '--from', 'claude-desktop'])).stdout).toContain('skipped: mine (mcpd has a server of that name)');
    const vscode = await mcpd(['import', '--from', 'vscode']);
    expect(vscode.stdout).toContain('added: web');
    expect((await mcpd(['reload'])).exitCode).toBe(0);
    const status = JSON.parse((await mcpd(['status', '--json'])).stdout) as { servers: { name: string }[] };
    expect(status.servers.map((s) => s.name)).toEqual(expect.arrayContaining(['fx', 'mine', 'web']));
    expect(existsSync(files['claude-desktop']!)).toBe(true);
  });

  it("takes Claude Code's per-project servers too; --move takes them out of its file (backup first); secrets make the config 0600", async () => {
    const file = files['claude-code']!;
    const mine = (n: string) => ({ type: 'stdio', command: process.execPath, args: [FIXTURE, `--${n}`], env: { FIXTURE_MARK: n } });
    writeFileSync(
      file,
      JSON.stringify(
        {
          numStartups: 3,
          mcpServers: { global: mine('global') },
          projects: {
            '/work/app': { mcpServers: { local: { ...mine('local'), env: { GITHUB_TOKEN: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' } } } },
            '/work/site': { mcpServers: { global: mine('site') }, allowedTools: [] },
          },
        },
        null,
        2,
      ),
    );
    const target = join(project, 'mcp.config.json');
    const moved = await mcpd(['import', '--from', 'claude-code', '--move']);
    expect(moved.exitCode, moved.stderr).toBe(0);
    expect(moved.stdout).toContain('added: global, local, global-site');
    expect(moved.stdout).toMatch(/moved: global, local, global-site out of .*\.claude\.json \(backup: .*\.claude\.json\.mcpd-backup-/);
    expect(moved.stdout).toContain('mcpd connect claude-code');
    const left = JSON.parse(readFileSync(file, 'utf8')) as { numStartups: number; mcpServers: object; projects: Record<string, object> };
    expect(left.numStartups).toBe(3);
    expect(left.mcpServers).toEqual({});
    expect(left.projects['/work/app']).toEqual({ mcpServers: {} });
    expect(left.projects['/work/site']).toEqual({ mcpServers: {}, allowedTools: [] });
    // The token came along: the config is the owner's only now.
    expect(readFileSync(target, 'utf8')).toContain('GITHUB_TOKEN');
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});
