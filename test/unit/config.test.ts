import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffServers } from '../../src/config/diff.js';
import { expandEnv } from '../../src/config/expand.js';
import { checkConfig, loadConfig } from '../../src/config/load.js';
import { validateConfig } from '../../src/config/validate.js';
import { DEFAULT_RESTART, DEFAULT_TIMEOUTS } from '../../src/config/schema.js';
import { isMcpdError } from '../../src/errors.js';
import { tempDir } from '../support/fixtures.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function dir(): string {
  const d = tempDir('mcpd-cfg-');
  cleanups.push(d.cleanup);
  return d.path;
}

describe('validateConfig', () => {
  it("refuses durations Node's timers cannot hold (2^31 ms and more), naming each path", () => {
    const huge = 3_000_000_000;
    const result = validateConfig(
      {
        servers: {
          gh: { command: 'gh-mcp', timeouts: { callMs: huge, startupMs: huge, pingIntervalMs: huge }, restart: { maxDelayMs: huge } },
        },
      },
      '/base',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path).sort()).toEqual([
      'servers.gh.restart.maxDelayMs',
      'servers.gh.timeouts.callMs',
      'servers.gh.timeouts.pingIntervalMs',
      'servers.gh.timeouts.startupMs',
    ]);
    expect(result.problems[0]!.message).toContain('at most 2147483647 ms');
    expect(validateConfig({ servers: { gh: { command: 'x', timeouts: { callMs: 2 ** 31 - 1 } } } }, '/base').ok).toBe(true);
  });

  it('applies every default', () => {
    const result = validateConfig({ servers: { fs: { command: 'node', args: ['x.js'] } } }, '/base');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.servers['fs']).toEqual({
      name: 'fs',
      transport: 'stdio',
      command: 'node',
      args: ['x.js'],
      env: {},
      cwd: '/base',
      disabled: false,
      roots: [],
      protocol: 'auto',
      start: 'eager',
      idleStopMs: null,
      tools: { allow: [], deny: [] },
      timeouts: DEFAULT_TIMEOUTS,
      restart: DEFAULT_RESTART,
    });
  });

  it('gives a lazy server an idle stop unless it sets its own, and takes both from defaults', () => {
    const result = validateConfig(
      {
        defaults: { start: 'lazy' },
        servers: {
          a: { command: 'a' },
          b: { command: 'b', idleStopMs: 60_000 },
          c: { command: 'c', start: 'eager' },
          d: { url: 'http://127.0.0.1:1/mcp' },
        },
      },
      '/base',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const pick = (name: string) => [result.config.servers[name]!.start, result.config.servers[name]!.idleStopMs];
    expect(['a', 'b', 'c', 'd'].map(pick)).toEqual([
      ['lazy', 300_000],
      ['lazy', 60_000],
      ['eager', null],
      ['lazy', 300_000],
    ]);
    const bad = validateConfig({ servers: { a: { command: 'a', start: 'sometimes', idleStopMs: 0 } } }, '/base');
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.problems.map((p) => p.path).sort()).toEqual(['servers.a.idleStopMs', 'servers.a.start']);
  });

  it('accepts every documented field', () => {
    const result = validateConfig(
      {
        servers: {
          docs: { url: 'http://127.0.0.1:8080/mcp', headers: { Authorization: 'Bearer x' } },
          old: { command: 'legacy-server', disabled: true },
          gh: {
            command: 'gh-mcp',
            cwd: 'sub',
            tools: { allow: ['search_*'], deny: ['delete_*'] },
            timeouts: { startupMs: 30000, callMs: 60000 },
            restart: { maxRestarts: 5, windowMs: 120000 },
          },
        },
        chat: {
          model: 'claude-sonnet-4-5',
          maxTokens: 8192,
          maxSteps: 25,
          system: '...',
          toolSearch: 'auto',
          pinnedTools: ['gh__search_*'],
        },
        plugins: ['./plugins/audit-log.ts', ['./plugins/tool-filter.ts', { deny: ['*delete*'] }]],
        gateway: {
          http: { host: '127.0.0.1', port: 7331 },
          maxNameLength: 50,
          profiles: {
            review: { servers: ['gh'], tools: { allow: ['gh__search_*'] } },
            find: { exposure: 'search', pinned: ['gh__search_code'] },
          },
        },
      },
      '/base',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.servers['docs']).toMatchObject({ transport: 'http', url: 'http://127.0.0.1:8080/mcp' });
    expect(result.config.servers['old']!.disabled).toBe(true);
    expect(result.config.servers['gh']).toMatchObject({ cwd: '/base/sub', tools: { allow: ['search_*'], deny: ['delete_*'] } });
    expect(result.config.plugins).toEqual([
      { specifier: './plugins/audit-log.ts', options: {} },
      { specifier: './plugins/tool-filter.ts', options: { deny: ['*delete*'] } },
    ]);
    expect(result.config.gateway).toEqual({
      http: { host: '127.0.0.1', port: 7331 },
      maxNameLength: 50,
      profiles: {
        review: { name: 'review', servers: ['gh'], tools: { allow: ['gh__search_*'], deny: [] }, exposure: 'all', pinned: [] },
        find: { name: 'find', servers: [], tools: { allow: [], deny: [] }, exposure: 'search', pinned: ['gh__search_code'] },
      },
    });
    expect(result.config.chat).toMatchObject({ toolSearch: 'auto', pinnedTools: ['gh__search_*'] });
  });

  it('gives every server the defaults block, under its own settings (timeouts, restart, tools per field)', () => {
    const result = validateConfig(
      {
        defaults: {
          timeouts: { startupMs: 5_000, callMs: 9_000 },
          restart: { maxRestarts: 2 },
          protocol: '2025-11-25',
          tools: { deny: ['*delete*'] },
        },
        servers: {
          plain: { command: 'a' },
          own: { command: 'b', timeouts: { callMs: 1_000 }, protocol: 'auto', tools: { allow: ['read_*'] } },
        },
      },
      '/base',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { plain, own } = result.config.servers;
    expect(plain).toMatchObject({
      timeouts: { ...DEFAULT_TIMEOUTS, startupMs: 5_000, callMs: 9_000 },
      restart: { ...DEFAULT_RESTART, maxRestarts: 2 },
      protocol: '2025-11-25',
      tools: { allow: [], deny: ['*delete*'] },
    });
    expect(own).toMatchObject({
      timeouts: { ...DEFAULT_TIMEOUTS, startupMs: 5_000, callMs: 1_000 },
      protocol: 'auto',
      tools: { allow: ['read_*'], deny: ['*delete*'] },
    });
  });

  it('names a problem of the defaults block by its own path', () => {
    const result = validateConfig({ defaults: { timeouts: { startupMs: -1 }, bogus: 1 }, servers: { a: { command: 'a' } } }, '/');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual(['defaults.timeouts.startupMs']);
    const search = validateConfig({ chat: { toolSearch: 'maybe' } }, '/');
    expect(search.ok ? [] : search.problems).toEqual([{ path: 'chat.toolSearch', message: 'must be "auto", true or false' }]);
  });

  it('names the path of every problem', () => {
    const result = validateConfig(
      {
        servers: {
          github: { command: 'gh', env: { TOKEN: 42 } },
          both: { command: 'x', url: 'http://x' },
          none: { args: [] },
          bad: { url: 'ftp://nope' },
          timing: { command: 'x', timeouts: { callMs: -1 } },
        },
        chat: { maxSteps: 'many' },
      },
      '/',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'servers.github.env.TOKEN',
        'servers.both',
        'servers.none',
        'servers.bad.url',
        'servers.timing.timeouts.callMs',
        'chat.maxSteps',
      ]),
    );
  });

  it('takes unknown keys as warnings, so Claude Desktop files load as is', () => {
    const result = validateConfig(
      { mcpServers: { fs: { command: 'npx', args: ['-y', 'x'], type: 'stdio', extra: 1 } }, globalShortcut: 'Ctrl+Space' },
      '/',
    );
    expect(result.ok).toBe(true);
    expect(result.warnings).toEqual(
      expect.arrayContaining(['globalShortcut: unknown key, ignored', 'mcpServers.fs.extra: unknown key, ignored']),
    );
  });

  it('refuses servers and mcpServers together', () => {
    const both = validateConfig({ servers: {}, mcpServers: {} }, '/');
    expect(both.ok).toBe(false);
  });

  it('remote servers: the transport from "type" (none: try Streamable HTTP, then SSE), headers from commands', () => {
    const result = validateConfig(
      {
        servers: {
          sse: { type: 'sse', url: 'http://x/sse' },
          cursor: { url: 'http://x/mcp' },
          code: {
            type: 'http',
            url: 'http://x/mcp',
            headers: { Authorization: { command: ['gh', 'auth', 'token'], prefix: 'Bearer ' }, 'X-Plain': 'v' },
          },
        },
      },
      '/',
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.values(result.config.servers).map((s) => [s.name, s.transport === 'http' ? s.wire : s.transport])).toEqual([
      ['sse', 'sse'],
      ['cursor', 'auto'],
      ['code', 'streamable-http'],
    ]);
    const bad = validateConfig({ servers: { x: { url: 'http://x/mcp', headers: { A: { command: [] } } } } }, '/');
    expect(bad.ok ? [] : bad.problems.map((p) => p.path)).toEqual(['servers.x.headers.A.command']);
  });
});

describe('expandEnv', () => {
  it('expands ${VAR} and ${VAR:-default} and names what is missing', () => {
    const problems: { path: string; message: string }[] = [];
    const out = expandEnv(
      { servers: { gh: { env: { TOKEN: '${TOKEN}', MODE: '${MODE:-dev}', URL: 'http://${HOST}:${PORT:-80}/x' } } } },
      { TOKEN: 'secret', HOST: 'h' },
      problems,
    );
    expect(out).toEqual({ servers: { gh: { env: { TOKEN: 'secret', MODE: 'dev', URL: 'http://h:80/x' } } } });
    expect(problems).toEqual([]);
    expandEnv({ servers: { gh: { env: { TOKEN: '${NOPE}' } } } }, {}, problems);
    expect(problems).toEqual([{ path: 'servers.gh.env.TOKEN', message: expect.stringContaining('NOPE is not set') }]);
  });
});

describe('loadConfig (cosmiconfig)', () => {
  it('finds mcp.config.json from a subfolder of the project', async () => {
    const root = dir();
    writeFileSync(join(root, 'package.json'), '{"name":"p"}');
    writeFileSync(join(root, 'mcp.config.json'), JSON.stringify({ servers: { a: { command: 'x' } } }));
    mkdirSync(join(root, 'deep/er'), { recursive: true });
    const config = await loadConfig({ cwd: join(root, 'deep/er'), env: {} });
    expect(config.file).toBe(join(root, 'mcp.config.json'));
    expect(config.servers['a']).toMatchObject({ cwd: root });
  });

  it('reads .mcprc.json and package.json#mcp', async () => {
    const a = dir();
    writeFileSync(join(a, '.mcprc.json'), JSON.stringify({ mcpServers: { a: { command: 'x' } } }));
    expect(Object.keys((await loadConfig({ cwd: a, env: {} })).servers)).toEqual(['a']);
    const b = dir();
    writeFileSync(join(b, 'package.json'), JSON.stringify({ name: 'p', mcp: { servers: { b: { command: 'y' } } } }));
    expect(Object.keys((await loadConfig({ cwd: b, env: {} })).servers)).toEqual(['b']);
  });

  it("keeps cosmiconfig's $import in a JSON config (read without cosmiconfig otherwise) and .mcprc as YAML", async () => {
    const d = dir();
    writeFileSync(join(d, 'shared.json'), JSON.stringify({ servers: { shared: { command: 'x' } } }));
    writeFileSync(join(d, 'mcp.config.json'), JSON.stringify({ $import: './shared.json', servers: { own: { command: 'y' } } }));
    const merged = await loadConfig({ cwd: d, env: {} });
    expect(Object.keys(merged.servers).sort()).toEqual(['own', 'shared']);
    const y = dir();
    writeFileSync(join(y, '.mcprc'), 'servers:\n  yaml:\n    command: z\n');
    expect(Object.keys((await loadConfig({ cwd: y, env: {} })).servers)).toEqual(['yaml']);
  });

  it('loads a Claude Desktop config unchanged', async () => {
    const d = dir();
    const file = join(d, 'claude_desktop_config.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me/Desktop'] },
          github: {
            command: 'docker',
            args: ['run', '-i', '--rm', 'ghcr.io/github/github-mcp-server'],
            env: { GITHUB_PERSONAL_ACCESS_TOKEN: 'x' },
          },
        },
      }),
    );
    const config = await loadConfig({ file, env: {} });
    expect(Object.keys(config.servers)).toEqual(['filesystem', 'github']);
  });

  it('expands ${MCPD_CONFIG_DIR} to the config folder', async () => {
    const d = dir();
    writeFileSync(join(d, 'mcp.config.json'), JSON.stringify({ servers: { a: { command: 'x', env: { P: '${MCPD_CONFIG_DIR}/data' } } } }));
    const config = await loadConfig({ cwd: d, env: {} });
    expect(config.servers['a']).toMatchObject({ env: { P: `${d}/data` } });
  });

  it('says where it looked when nothing is found, and names the file on a syntax error', async () => {
    const empty = dir();
    writeFileSync(join(empty, 'package.json'), '{"name":"p"}');
    await expect(loadConfig({ cwd: empty, env: {} })).rejects.toSatisfy((e: unknown) => isMcpdError(e, 'MCPD_CONFIG_NOT_FOUND'));
    const broken = dir();
    writeFileSync(join(broken, 'mcp.config.json'), '{ "servers": { ');
    await expect(loadConfig({ cwd: broken, env: {} })).rejects.toSatisfy(
      (e: unknown) => isMcpdError(e, 'MCPD_CONFIG_UNREADABLE') && (e as Error).message.includes('mcp.config.json'),
    );
  });

  it('refuses an empty file (a save in progress) instead of reading it as no servers', async () => {
    const d = dir();
    const file = join(d, 'mcp.config.json');
    writeFileSync(file, '');
    // A reload names the file it runs on.
    await expect(loadConfig({ file, env: {} })).rejects.toSatisfy(
      (e: unknown) => isMcpdError(e, 'MCPD_CONFIG_UNREADABLE') && (e as Error).message.includes('is empty'),
    );
    // A search stops at it too, rather than fall through to another config.
    await expect(loadConfig({ cwd: d, env: {} })).rejects.toSatisfy(
      (e: unknown) => isMcpdError(e, 'MCPD_CONFIG_UNREADABLE') && (e as Error).message.includes('is empty'),
    );
  });

  it('loads mcp.config.ts with defineConfig from mcpd/config, wherever it lives (CommonJS or ESM folder)', async () => {
    const source = [
      "import { defineConfig } from 'mcpd/config';",
      "const cwd: string = 'work';",
      "export default defineConfig({ servers: { a: { command: 'node', cwd, timeouts: { startupMs: 5000 } } }, chat: { maxSteps: 3 } });",
    ].join('\n');
    for (const esm of [false, true]) {
      const d = dir(); // under the system's temp folder: no mcpd installed anywhere above it
      if (esm) writeFileSync(join(d, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(d, 'mcp.config.ts'), source);
      const config = await loadConfig({ cwd: d, env: {} });
      expect(config.file).toBe(join(d, 'mcp.config.ts'));
      expect(config.servers['a']).toMatchObject({ command: 'node', cwd: join(d, 'work'), timeouts: { startupMs: 5000, callMs: 60_000 } });
      expect(config.chat.maxSteps).toBe(3);
      // A problem in it is named as in any config.
      writeFileSync(
        join(d, 'mcp.config.ts'),
        "import { defineConfig } from 'mcpd/config';\nexport default defineConfig({ servers: { a: { command: '' } } });",
      );
      expect((await checkConfig({ cwd: d, env: {} })).problems).toEqual([{ path: 'servers.a.command', message: 'must not be empty' }]);
    }
  });

  it('lists every problem (checkConfig) and throws MCPD_CONFIG_INVALID (loadConfig)', async () => {
    const d = dir();
    const file = join(d, 'mcp.config.json');
    writeFileSync(file, JSON.stringify({ servers: { a: { command: '' }, b: { command: 'x', env: { T: '${MISSING_VAR}' } } } }));
    const checked = await checkConfig({ file, env: {} });
    expect(checked.problems.map((p) => p.path).sort()).toEqual(['servers.a.command', 'servers.b.env.T']);
    await expect(loadConfig({ file, env: {} })).rejects.toSatisfy(
      (e: unknown) => isMcpdError(e, 'MCPD_CONFIG_INVALID') && (e as Error).message.includes('servers.b.env.T'),
    );
  });
});

describe('diffServers', () => {
  const base = (servers: Record<string, unknown>) => {
    const r = validateConfig({ servers }, '/');
    if (!r.ok) throw new Error('bad');
    return r.config;
  };
  it('sorts servers into added, removed, changed and unchanged; key order is not a change', () => {
    const before = base({ a: { command: 'x', env: { A: '1', B: '2' } }, b: { command: 'y' }, c: { command: 'z' } });
    const after = base({ a: { command: 'x', env: { B: '2', A: '1' } }, b: { command: 'y', args: ['--new'] }, d: { command: 'w' } });
    expect(diffServers(before, after)).toEqual({ added: ['d'], removed: ['c'], changed: ['b'], unchanged: ['a'] });
  });
});

describe('where the config is, and the formats it comes in', () => {
  const servers = { servers: { a: { command: 'x' } } };

  it('JSON with comments and trailing commas; a syntax error names line and column', async () => {
    const d = dir();
    writeFileSync(join(d, 'mcp.config.json'), '// mine\n{\n  "servers": {\n    /* local */ "a": { "command": "x", },\n  },\n}\n');
    expect(Object.keys((await loadConfig({ cwd: d, env: {} })).servers)).toEqual(['a']);
    writeFileSync(join(d, 'mcp.config.json'), '{\n  "servers": {\n    "a": { "command": "x" }\n  \n');
    await expect(loadConfig({ cwd: d, env: {} })).rejects.toThrow(/mcp\.config\.json:5:1: CloseBraceExpected/);
  });

  it("the project's config first (Claude Code's .mcp.json too), else the user's ($XDG_CONFIG_HOME/mcpd)", async () => {
    const xdg = dir();
    const project = dir();
    writeFileSync(join(project, 'package.json'), '{"name":"p"}');
    const env = { XDG_CONFIG_HOME: xdg, HOME: project };
    // Nothing anywhere: the error says where it looked and what to run.
    await expect(loadConfig({ cwd: project, env })).rejects.toThrow(
      new RegExp(`no user config at ${join(xdg, 'mcpd', 'mcp.config.json')}\\. Create one with: mcpd init`),
    );
    mkdirSync(join(xdg, 'mcpd'));
    writeFileSync(join(xdg, 'mcpd', 'mcp.config.json'), JSON.stringify({ servers: { user: { command: 'x' } } }));
    expect((await loadConfig({ cwd: project, env })).file).toBe(join(xdg, 'mcpd', 'mcp.config.json'));
    writeFileSync(join(project, '.mcp.json'), JSON.stringify({ mcpServers: { claude: { type: 'stdio', command: 'x' } } }));
    const fromProject = await loadConfig({ cwd: project, env });
    expect([fromProject.file, Object.keys(fromProject.servers)]).toEqual([join(project, '.mcp.json'), ['claude']]);
    writeFileSync(join(project, 'mcp.config.json'), JSON.stringify(servers));
    expect((await loadConfig({ cwd: project, env })).file).toBe(join(project, 'mcp.config.json'));
  });

  it("VS Code's .vscode/mcp.json: ${workspaceFolder}, ${userHome}, ${env:VAR}, envFile; ${input:...} is refused where it is", async () => {
    const workspace = dir();
    mkdirSync(join(workspace, '.vscode'));
    writeFileSync(join(workspace, '.env.mcp'), '# keys\nexport API_KEY="from-file"\nMODE=file # comment\n');
    const vscodeConfig = {
      inputs: [{ type: 'promptString', id: 'token', description: 'Token', password: true }],
      servers: {
        fs: {
          type: 'stdio',
          command: 'node',
          args: ['${workspaceFolder}/server.js', '${userHome}'],
          env: { MODE: 'explicit', TOKEN: '${env:MY_TOKEN}' },
          envFile: '${workspaceFolder}/.env.mcp',
        },
        remote: { type: 'http', url: 'https://example.com/mcp' },
      },
    };
    writeFileSync(join(workspace, '.vscode', 'mcp.json'), JSON.stringify(vscodeConfig));
    const config = await loadConfig({ cwd: workspace, env: { MY_TOKEN: 't0k' } });
    const fs = config.servers['fs'] as { args: string[]; env: Record<string, string>; cwd: string };
    const { homedir } = await import('node:os');
    expect(fs.args).toEqual([`${workspace}/server.js`, homedir()]);
    expect(fs.env).toEqual({ API_KEY: 'from-file', MODE: 'explicit', TOKEN: 't0k' });
    expect(fs.cwd).toBe(workspace);
    expect(config.servers['remote']).toMatchObject({ transport: 'http', wire: 'streamable-http', protocol: 'auto' });

    vscodeConfig.servers.remote = {
      type: 'http',
      url: 'https://example.com/mcp',
      headers: { Authorization: 'Bearer ${input:token}' },
    } as never;
    writeFileSync(join(workspace, '.vscode', 'mcp.json'), JSON.stringify(vscodeConfig));
    const checked = await checkConfig({ cwd: workspace, env: { MY_TOKEN: 't0k' } });
    expect(checked.problems).toEqual([
      { path: 'servers.remote.headers.Authorization', message: expect.stringContaining('uses ${input:token}, a value VS Code asks for') },
    ]);
  });
});
