/**
 * Hostile surroundings and hostile input, met as a user meets them (issue 20, items 11–17): a
 * squatted lock name, a home deleted under a running daemon, a home or symlink of another user,
 * credentials in a server's URL, configs built to break the parser, control characters from a
 * server, and a server's first line far past the size limit.
 */
import { createHash } from 'node:crypto';
import { chownSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, execaSync, type ResultPromise } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/client/control-client.js';
import { CLI, fixtureEntry, freePort, tempDir, waitFor } from '../support/fixtures.js';

const root = process.getuid?.() === 0 && process.platform === 'linux';
const OTHER = 'mcpd-test-other';

/** The second user of these tests (made once), and its uid. */
function otherUser(): number {
  const id = execaSync('id', ['-u', OTHER], { reject: false });
  if (id.exitCode === 0) return Number(String(id.stdout).trim());
  execaSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', OTHER]);
  return Number(String(execaSync('id', ['-u', OTHER]).stdout).trim());
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(servers: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const dir = tempDir('mcpd-hos-');
  const home = join(dir.path, 'home');
  const configFile = join(dir.path, 'mcp.config.json');
  writeFileSync(configFile, JSON.stringify({ servers, ...extra }));
  const mcpd = (args: string[]) =>
    execa(process.execPath, [CLI, ...args, '--home', home], { reject: false, cwd: dir.path, timeout: 60_000 });
  cleanups.push(async () => {
    await mcpd(['stop']);
    dir.cleanup();
  });
  return { dir: dir.path, home, configFile, mcpd };
}

describe.runIf(root)('the home, from another user (needs root: useradd, chown)', () => {
  it('a squatted lock name keeps no daemon off its home', async () => {
    const uid = otherUser();
    const { home, configFile, mcpd } = setup({ fx: fixtureEntry() });
    mkdirSync(home, { mode: 0o700 });
    // The name a daemon of this user on this home takes first, as anyone can compute it.
    const id = createHash('sha256')
      .update(`${process.getuid!()}\0${realpathSync(home)}`)
      .digest('hex');
    const name = `\0${`mcpd-home-${id}`.padEnd(107, '.')}`;
    // setpriv execs: the squatter is this very process, so killing it ends it.
    const squatter: ResultPromise = execa(
      'setpriv',
      [
        '--reuid',
        String(uid),
        '--regid',
        String(uid),
        '--clear-groups',
        '--',
        process.execPath,
        '-e',
        `require('net').createServer().listen({ path: ${JSON.stringify(name)} })`,
      ],
      { reject: false, cwd: '/' },
    );
    cleanups.push(() => void squatter.kill('SIGKILL'));
    await waitFor(() => readFileSync('/proc/net/unix', 'utf8').includes(`@mcpd-home-${id}`) || undefined, 10_000, 'the squatter');
    const start = await mcpd(['start', '--config', configFile]);
    expect(start.exitCode, String(start.stderr)).toBe(0);
    expect(readFileSync(join(home, 'logs', 'daemon.log'), 'utf8')).toContain('another user holds the usual lock name');
    // And it is still one daemon per home.
    const second = await execa(process.execPath, [CLI, 'serve', '--home', home, '--config', configFile], {
      reject: false,
      timeout: 30_000,
    });
    expect(second.exitCode).toBe(4);
  }, 60_000);

  it("the CLI does not talk to a home that is another user's, or a symlink of theirs", async () => {
    const uid = otherUser();
    const dir = tempDir('mcpd-hos-');
    cleanups.push(dir.cleanup);
    const theirs = join(dir.path, 'theirs');
    mkdirSync(theirs, { mode: 0o700 });
    chownSync(theirs, uid, uid);
    const status = await execa(process.execPath, [CLI, 'status', '--home', theirs], { reject: false });
    expect(status.exitCode).toBe(1);
    expect(String(status.stderr)).toContain('belongs to another user');
    const mine = join(dir.path, 'mine');
    mkdirSync(mine, { mode: 0o700 });
    const link = join(dir.path, 'link');
    symlinkSync(mine, link);
    execaSync('chown', ['-h', `${uid}:${uid}`, link]);
    const viaLink = await execa(process.execPath, [CLI, 'status', '--home', link], { reject: false });
    expect(viaLink.exitCode).toBe(1);
    expect(String(viaLink.stderr)).toContain('is a symlink that belongs to another user');
  }, 30_000);
});

describe('mcpd start', () => {
  it('says at once when the daemon it started exits because another holds the home (the home deleted under it)', async () => {
    const { home, configFile, mcpd } = setup({ fx: fixtureEntry() });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const pid = Number(readFileSync(join(home, 'mcpd.pid'), 'utf8'));
    cleanups.push(() => void process.kill(pid, 'SIGKILL'));
    rmSync(home, { recursive: true, force: true });
    // Not the 90 s wait for a daemon that will never answer: the test's own timeout would end first.
    const again = await mcpd(['start', '--config', configFile]);
    expect(again.exitCode).toBe(1);
    expect(String(again.stderr)).toContain('already runs');
  }, 30_000);
});

describe('credentials in a remote server URL', () => {
  it('are shown nowhere: not in status, the logs, the daemon log, a call error or the config view', async () => {
    const port = await freePort(); // nobody listens: the connection is refused, and said
    const url = `http://someone:sekrit-pass-123@127.0.0.1:${port}/mcp/sk_live_abcdefghij0123456789?api_key=qwerty-key-987`;
    const { home, configFile, mcpd } = setup({ remote: { url, restart: { maxRestarts: 1, initialDelayMs: 50 } } });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    await waitFor(
      async () => {
        const s = await mcpd(['status', '--json']);
        return (JSON.parse(String(s.stdout)) as { servers: { lastError: unknown }[] }).servers[0]?.lastError ?? undefined;
      },
      20_000,
      'the error',
    );
    const shown = [
      String((await mcpd(['status', '--json'])).stdout),
      String((await mcpd(['logs', '-n', '500'])).stdout),
      readFileSync(join(home, 'logs', 'daemon.log'), 'utf8'),
      String((await mcpd(['call', 'remote__anything', '{}'])).stderr),
    ];
    // The config view (the dashboard's) shows the URL's shape, not its secrets.
    const client = await ControlClient.connect({ socketPath: join(home, 'mcpd.sock') });
    const view = JSON.stringify(await client.request('servers.config', { name: 'remote' }));
    client.close();
    expect(view).toContain('user:xxxxxx@127.0.0.1');
    const all = [...shown, view].join('\n');
    expect(all).toContain('127.0.0.1');
    for (const secret of ['sekrit-pass-123', 'sk_live_abcdefghij0123456789', 'qwerty-key-987', 'someone'])
      expect(all).not.toContain(secret);
  }, 60_000);
});

describe('a config built to break the parser', () => {
  it('nested 100 000 deep, invalid UTF-8, __proto__, an oversized env value: each a clear problem with its path', async () => {
    const dir = tempDir('mcpd-hos-');
    cleanups.push(dir.cleanup);
    const check = async (name: string, text: string | Buffer) => {
      const file = join(dir.path, name);
      writeFileSync(file, text);
      return execa(process.execPath, [CLI, 'config', 'check', file], { reject: false });
    };
    const deep = await check('deep.json', `{"servers":{"a":{"command":"x","args":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}`);
    expect([deep.exitCode, String(deep.stderr) + String(deep.stdout)]).toEqual([
      1,
      expect.stringContaining('nested more than 64 levels deep'),
    ]);
    expect(String(deep.stderr)).not.toContain('RangeError');
    const utf8 = await check(
      'utf8.json',
      Buffer.concat([Buffer.from('{"servers":{"a'), Buffer.from([0xff, 0xfe]), Buffer.from('":{"command":"x"}}}')]),
    );
    expect([utf8.exitCode, String(utf8.stderr)]).toEqual([1, expect.stringContaining('is not valid UTF-8 (at byte 14)')]);
    const proto = await check(
      'proto.json',
      JSON.stringify({ servers: { b: { command: 'x' } } }).replace('{"b"', '{"__proto__":{"command":"y"},"b"'),
    );
    expect([proto.exitCode, String(proto.stdout) + String(proto.stderr)]).toEqual([1, expect.stringContaining('servers.__proto__')]);
    const big = await check('big.json', JSON.stringify({ servers: { a: { command: 'x', env: { BIG: 'x'.repeat(10 * 1024 * 1024) } } } }));
    expect([big.exitCode, String(big.stdout) + String(big.stderr)]).toEqual([
      1,
      expect.stringContaining('servers.a.env.BIG: is 10485764 bytes'),
    ]);
  }, 60_000);

  it('profiles named like Object methods work; a missing one is 404, never -32603', async () => {
    const { configFile, mcpd, home } = setup(
      { fx: fixtureEntry() },
      { gateway: { http: { port: 0 }, profiles: { constructor: {}, toString: { tools: { allow: ['*__echo'] } } } } },
    );
    void home;
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const status = JSON.parse(String((await mcpd(['status', '--json'])).stdout)) as { fronts: { name: string; address: string }[] };
    const base = status.fronts.find((f) => f.name === 'mcp-http')!.address;
    const init = (path: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
        }),
      });
    expect((await init('/profiles/toString/mcp')).status).toBe(200);
    expect((await init('/profiles/constructor/mcp')).status).toBe(200);
    const missing = await init('/profiles/valueOf/mcp');
    expect(missing.status).toBe(404);
    expect((JSON.parse(await missing.text()) as { error: { message: string } }).error.message).toContain('No profile named "valueOf"');
  }, 60_000);

  it('arguments too large for one process are failed at once, not retried as crashes', async () => {
    const { configFile, mcpd } = setup({ huge: { command: process.execPath, args: ['x'.repeat(3 * 1024 * 1024)] } });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const status = JSON.parse(String((await mcpd(['status', '--json'])).stdout)) as {
      servers: { state: string; restarts: number; lastError: { message: string } }[];
    };
    expect(status.servers[0]).toMatchObject({ state: 'failed', restarts: 0, lastError: { message: expect.stringContaining('E2BIG') } });
  }, 60_000);
});

describe('a server that writes control characters, or a first line past every limit', () => {
  it('cannot act on the terminal: mcpd tools shows escapes as text (and --json stays exact)', async () => {
    const { configFile, mcpd, dir } = setup({ fx: fixtureEntry({ FIXTURE_TOOL_NAMES: 'clear\u001b[2Jscreen' }) });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    // On a real terminal (util-linux script).
    const tty = await execa('script', ['-qfec', `"${process.execPath}" "${CLI}" tools --home "${join(dir, 'home')}"`, '/dev/null'], {
      reject: false,
    });
    expect(String(tty.stdout)).toContain('odd name: clear\\x1b[2J');
    expect(String(tty.stdout)).not.toContain('\u001b[2J');
    const json = await mcpd(['tools', '--json']);
    expect(String(json.stdout)).toContain('odd name: clear\\u001b[2Jscreen');
  }, 60_000);

  it('a first line past the 64 MiB limit is said as such, not as "Connection closed"', async () => {
    const { configFile, mcpd } = setup({ flood: fixtureEntry({ FIXTURE_HUGE_LINE_MB: '70' }, { restart: { maxRestarts: 0 } }) });
    expect((await mcpd(['start', '--config', configFile])).exitCode).toBe(0);
    const status = JSON.parse(String((await mcpd(['status', '--json'])).stdout)) as { servers: { lastError: { message: string } }[] };
    expect(status.servers[0]!.lastError.message).toContain('exceeded 64 MiB');
  }, 90_000);
});
