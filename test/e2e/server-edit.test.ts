/**
 * `mcpd server add|remove|enable|disable|list` as a user runs them: the config file changes in
 * place with its comments and formatting kept, the running daemon reloads, and what would be
 * wrong (a name taken, an invalid entry) is refused with the file untouched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, FIXTURE, ROOT, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-server-edit-');
const home = join(dir.path, 'home');
const file = join(dir.path, 'mcp.config.json');
const node = process.execPath;
const ORIGINAL = `// my servers
{
  "servers": {
    // the first one
    "fx": { "command": ${JSON.stringify(node)}, "args": [${JSON.stringify(FIXTURE)}] },
  },
}
`;

function mcpd(args: string[]) {
  return execa(node, [CLI, ...args], {
    reject: false,
    cwd: dir.path,
    env: { MCPD_HOME: home, XDG_CONFIG_HOME: join(dir.path, 'xdg'), HOME: dir.path },
    timeout: 60_000,
  });
}

let sse: { port: number; stop: () => void };

beforeAll(async () => {
  const child = execa(node, [join(ROOT, 'test/fixtures/sse-server.mjs')], { reject: false, buffer: false });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  sse = { port, stop: () => child.kill() };
  writeFileSync(file, ORIGINAL);
  expect((await mcpd(['start'])).exitCode).toBe(0);
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  sse.stop();
  dir.cleanup();
});

describe('servers from the CLI', () => {
  it('add (a command after --, with env): written with the comments kept, and running at once', async () => {
    const added = await mcpd(['server', 'add', 'two', '-e', 'FIXTURE_MARK=2', '--', node, FIXTURE]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Added server "two" in ${file}.`);
    expect(added.stdout).toMatch(/two: running, pid \d+, \d+ tools/);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(ORIGINAL.split('  },\n}')[0]!)).toBe(true); // everything before is as it was
    expect(text).toContain('// my servers');
    expect(text).toContain('// the first one');
    expect(text).toContain('"FIXTURE_MARK": "2"');
    expect((await mcpd(['call', 'two__echo', '{"message":"hi"}'])).stdout).toBe('hi');
  });

  it('refuses a name that exists (--force replaces) and an invalid entry, leaving the file as it was', async () => {
    const before = readFileSync(file, 'utf8');
    const taken = await mcpd(['server', 'add', 'two', '--', 'other']);
    expect([taken.exitCode, taken.stderr]).toEqual([2, `A server named "two" is in ${file} already; --force replaces it.`]);
    const invalid = await mcpd(['server', 'add', 'web', '--url', 'ftp://nope']);
    expect(invalid.exitCode).toBe(1);
    expect(invalid.stderr).toContain('servers.web.url: must be an http:// or https:// URL');
    const nothing = await mcpd(['server', 'add', 'empty']);
    expect(nothing.exitCode).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(before);
    const forced = await mcpd(['server', 'add', 'two', '--force', '--', node, FIXTURE]);
    expect(forced.stdout).toContain('Replaced server "two"');
    expect(readFileSync(file, 'utf8')).not.toContain('FIXTURE_MARK');
  });

  it('a remote server with headers; disable, enable, list, remove', async () => {
    // Nothing listens there: the server cannot start, so it is not kept.
    const before = readFileSync(file, 'utf8');
    const unreachable = await mcpd([
      'server',
      'add',
      'web',
      '--url',
      'http://127.0.0.1:9/mcp',
      '--transport',
      'sse',
      '--header',
      'X-Key: k1',
    ]);
    expect(unreachable.exitCode).toBe(1);
    expect(unreachable.stderr).toContain('Server "web" did not start');
    expect(unreachable.stderr).toContain(`Not added: ${file} is as it was.`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect((await mcpd(['status', '--json'])).stdout).not.toContain('"web"');
    const added = await mcpd([
      'server',
      'add',
      'web',
      '--url',
      `http://127.0.0.1:${sse.port}/sse`,
      '--transport',
      'sse',
      '--header',
      'X-Key: k1',
    ]);
    expect(added.exitCode, added.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(
      /"web": \{\n\s+"url": "http:\/\/127\.0\.0\.1:\d+\/sse",\n\s+"type": "sse",\n\s+"headers": \{\n\s+"X-Key": "k1"/,
    );
    const disabled = await mcpd(['server', 'disable', 'web']);
    expect(disabled.stdout).toContain('web: disabled');
    const list = await mcpd(['server', 'list']);
    expect(list.stdout).toMatch(/fx\s+stdio\s+running/);
    expect(list.stdout).toMatch(/web\s+sse\s+disabled\s+http:\/\/127\.0\.0\.1:\d+\/sse/);
    expect((await mcpd(['server', 'enable', 'web'])).stdout).toContain('Enabled server "web"');
    expect(readFileSync(file, 'utf8')).not.toContain('"disabled"');
    const removed = await mcpd(['server', 'remove', 'web']);
    expect(removed.stdout).toContain(`Removed server "web" from ${file}.`);
    expect((await mcpd(['status', '--json'])).stdout).not.toContain('"web"');
    const unknown = await mcpd(['server', 'remove', 'nope']);
    expect([unknown.exitCode, unknown.stderr]).toEqual([1, `No server named "nope" in ${file} (servers: fx, two).`]);
  });
});
