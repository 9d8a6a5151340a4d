/** The small rules behind a newcomer's first hour: script resolution, stderr summaries, example calls, what looks secret. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveScript, scriptName } from '../../src/cli/scripts.js';
import { exampleArguments } from '../../src/cli/format.js';
import { holdsSecrets } from '../../src/config/edit.js';
import { looksSecret, maskServerConfig } from '../../src/config/mask.js';
import { stderrSummary } from '../../src/logs/stderr-summary.js';
import { LogStore } from '../../src/logs/store.js';
import { serverConfig, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-scripts-');
afterAll(() => dir.cleanup());

describe('server scripts (mcpd chat ./weather.py)', () => {
  const folder = join(dir.path, 'weather');
  mkdirSync(join(folder, 'build'), { recursive: true });
  for (const file of ['weather.py', 'weather.js', 'weather.ts', 'build/index.js', 'notes.txt', 'tool'])
    writeFileSync(join(folder, file), '');
  chmodSync(join(folder, 'tool'), 0o755);
  const bin = join(dir.path, 'bin');
  mkdirSync(bin);
  for (const name of ['python3', 'uv']) {
    writeFileSync(join(bin, name), '#!/bin/sh\n');
    chmodSync(join(bin, name), 0o755);
  }
  const env = { PATH: bin };

  it('is named after the file, or its folder when the file is index/main/server', () => {
    expect(scriptName('/a/weather.py')).toBe('weather');
    expect(scriptName('/a/weather/build/index.js')).toBe('weather');
    expect(scriptName('/srv/my server!.py')).toBe('my-server');
    expect(scriptName('/server.py')).toBe('server');
  });

  it('runs each kind with what runs it, resolved from the folder it is typed in', () => {
    expect(resolveScript('weather.py', folder, env)).toMatchObject({
      name: 'weather',
      command: join(bin, 'python3'),
      args: [join(folder, 'weather.py')],
      cwd: folder,
    });
    expect(resolveScript('./weather.js', folder, env)).toMatchObject({ command: process.execPath, args: [join(folder, 'weather.js')] });
    const ts = resolveScript('weather.ts', folder, env);
    expect(ts.command).toBe(process.execPath);
    expect(ts.args[0]).toBe('--import');
    expect(ts.args[1]).toMatch(/^file:.*tsx/);
    expect(resolveScript('build/index.js', folder, env).name).toBe('weather');
    expect(resolveScript('tool', folder, env)).toMatchObject({ command: join(folder, 'tool'), args: [] });
    expect(() => resolveScript('notes.txt', folder, env)).toThrow(
      'Server script must be a .py, .js or .ts file, or an executable: notes.txt',
    );
    expect(() => resolveScript('nope.py', folder, env)).toThrow(`No such file: nope.py (looked for ${join(folder, 'nope.py')})`);
    expect(() => resolveScript('weather.py', folder, { PATH: '' })).toThrow('neither python3 nor python is on PATH');
  });

  it('a .py takes the venv beside it first, then uv run with a pyproject.toml', () => {
    writeFileSync(join(folder, 'pyproject.toml'), '[project]\nname = "weather"\n');
    expect(resolveScript('weather.py', folder, env)).toMatchObject({
      command: join(bin, 'uv'),
      args: ['run', '--directory', folder, join(folder, 'weather.py')],
    });
    mkdirSync(join(folder, '.venv/bin'), { recursive: true });
    writeFileSync(join(folder, '.venv/bin/python'), '#!/bin/sh\n');
    chmodSync(join(folder, '.venv/bin/python'), 0o755);
    expect(resolveScript('weather.py', folder, env).command).toBe(join(folder, '.venv/bin/python'));
  });
});

describe('why a server failed, from its stderr', () => {
  it("keeps Node's error line under the stack and its banner", () => {
    const node = [
      'node:internal/modules/esm/resolve:275',
      '    throw new ERR_MODULE_NOT_FOUND(',
      '          ^',
      '',
      "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/w/no-such.js' imported from /w/broken.js",
      '    at finalizeResolution (node:internal/modules/esm/resolve:275:11)',
      '    at moduleResolve (node:internal/modules/esm/resolve:860:10)',
      '    at defaultResolve (node:internal/modules/esm/resolve:984:11) {',
      "  code: 'ERR_MODULE_NOT_FOUND',",
      "  url: 'file:///w/no-such.js'",
      '}',
      '',
      'Node.js v20.20.2',
    ];
    expect(stderrSummary(node)).toEqual(["Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/w/no-such.js' imported from /w/broken.js"]);
  });

  it("keeps Python's last line, and the headline of a long log", () => {
    const python = [
      'Traceback (most recent call last):',
      '  File "/w/weather.py", line 1, in <module>',
      "ModuleNotFoundError: No module named 'mcp'",
    ];
    expect(stderrSummary(python)).toEqual(python);
    const long = ['TypeError: x is not a function', ...Array.from({ length: 10 }, (_, i) => `line ${i}`)];
    expect(stderrSummary(long)).toEqual(['TypeError: x is not a function', '…', 'line 6', 'line 7', 'line 8', 'line 9']);
  });

  it('reads only what came after a mark (not an earlier attempt)', () => {
    const logs = new LogStore();
    logs.append('s', 'stderr', 'info', 'attempt 1 said this');
    const mark = logs.lastSeq;
    logs.append('s', 'stderr', 'info', 'attempt 2 said that');
    expect(logs.stderrTail('s', 10, mark)).toEqual(['attempt 2 said that']);
  });
});

describe('example arguments (mcpd tools TOOL)', () => {
  it('gives each property a value of its type, the required ones when some are', () => {
    expect(
      exampleArguments({
        type: 'object',
        properties: {
          a: { type: 'number' },
          b: { type: 'integer', minimum: 5 },
          flag: { type: 'boolean' },
          unit: { type: 'string', enum: ['C', 'F'] },
          note: { type: 'string' },
        },
        required: ['a', 'b', 'flag', 'unit'],
      }),
    ).toEqual({ a: 1, b: 5, flag: true, unit: 'C' });
    expect(exampleArguments({ type: 'object', properties: { q: { type: 'string' }, n: { type: ['integer', 'null'] } } })).toEqual({
      q: '…',
      n: 1,
    });
  });
});

describe('what looks secret', () => {
  it('masks env values named or shaped like secrets, not the rest', () => {
    expect(looksSecret('GITHUB_TOKEN', 'x')).toBe(true);
    expect(looksSecret('DB_PASSWORD', 'hunter2')).toBe(true);
    expect(looksSecret('OPAQUE', 'sk1234567890abcdefghijkl')).toBe(true);
    expect(looksSecret('LOG_LEVEL', 'debug')).toBe(false);
    expect(looksSecret('NOTES_DIR', '/home/me/notes2024/archive/x')).toBe(false);
    const masked = maskServerConfig(
      serverConfig('s', { command: 'x', env: { API_KEY: 'abc', LOG_LEVEL: 'debug', ROOT: '/home/me/projects2026' } }),
    );
    expect(masked['env']).toEqual({ API_KEY: '••••••', LOG_LEVEL: 'debug', ROOT: '/home/me/projects2026' });
  });

  it('a config holding a literal secret is one to write 0600; ${VAR} is not a secret', () => {
    const entry = (env: Record<string, string>) => JSON.stringify({ servers: { s: { command: 'x', env } } });
    expect(holdsSecrets(entry({ GITHUB_TOKEN: 'ghp_1234' }))).toBe(true);
    expect(holdsSecrets(entry({ GITHUB_TOKEN: '${GITHUB_TOKEN}' }))).toBe(false);
    expect(holdsSecrets(entry({ LOG_LEVEL: 'debug' }))).toBe(false);
    expect(holdsSecrets(JSON.stringify({ mcpServers: { r: { url: 'https://x', headers: { Authorization: 'Bearer abc' } } } }))).toBe(true);
    expect(holdsSecrets(JSON.stringify({ projects: { '/p': { mcpServers: { s: { command: 'x', env: { API_KEY: 'k' } } } } } }))).toBe(true);
  });
});
