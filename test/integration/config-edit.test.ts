/**
 * The config edits of the control protocol (`config.edit`, what the dashboard uses) against a
 * real daemon: edits at once from two clients both land, in the file and running; a server that
 * cannot start is taken back with the file as it was; an edit while the daemon stops is refused.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpdError } from '../../src/errors.js';
import { fixtureEntry } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let t: TestDaemon;

beforeAll(async () => {
  t = await startDaemon({ servers: { base: fixtureEntry() } });
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

const servers = () => (JSON.parse(readFileSync(t.configFile, 'utf8')) as { servers: Record<string, Record<string, unknown>> }).servers;

describe('config.edit', () => {
  it('applies edits sent at once by two clients, one after the other', async () => {
    const [a, b] = await Promise.all([t.connect(), t.connect()]);
    const [one, two] = await Promise.all([
      a.request('config.edit', { action: 'add', name: 'one', entry: fixtureEntry() }),
      b.request('config.edit', { action: 'add', name: 'two', entry: fixtureEntry() }),
    ]);
    expect([one.server?.state, two.server?.state]).toEqual(['running', 'running']);
    expect(Object.keys(servers()).sort()).toEqual(['base', 'one', 'two']);
    const status = await a.request('status', {});
    expect(status.servers.map((s) => `${s.name}:${s.state}`).sort()).toEqual(['base:running', 'one:running', 'two:running']);
    // Disable and remove at once: both land too.
    await Promise.all([
      a.request('config.edit', { action: 'disable', name: 'one' }),
      b.request('config.edit', { action: 'remove', name: 'two' }),
    ]);
    expect(servers()['one']?.['disabled']).toBe(true);
    expect(servers()['two']).toBeUndefined();
    expect((await a.request('status', {})).servers.find((s) => s.name === 'one')?.state).toBe('disabled');
  });

  it('takes back a server that does not start, leaving the file as it was', async () => {
    const client = await t.connect();
    const before = readFileSync(t.configFile, 'utf8');
    const error = await client
      .request('config.edit', { action: 'add', name: 'dies', entry: fixtureEntry({ FIXTURE_EXIT_AT_START: '3' }) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpdError);
    expect((error as McpdError).message).toMatch(/^Not added: server "dies" did not start: [\s\S]*is as it was\.$/);
    expect(readFileSync(t.configFile, 'utf8')).toBe(before);
    expect((await client.request('status', {})).servers.map((s) => s.name)).not.toContain('dies');
  });

  it('refuses an edit while the daemon stops, and writes nothing', async () => {
    const client = await t.connect();
    const before = readFileSync(t.configFile, 'utf8');
    const stopping = t.daemon.stop('test: edit during stop');
    const error = await client.request('config.edit', { action: 'add', name: 'late', entry: fixtureEntry() }).catch((e: unknown) => e);
    await stopping;
    expect(error).toBeInstanceOf(McpdError);
    expect(['MCPD_CLOSED', 'MCPD_CONTROL_CLOSED']).toContain((error as McpdError).code);
    expect(readFileSync(t.configFile, 'utf8')).toBe(before);
    await t.restart();
  });
});
