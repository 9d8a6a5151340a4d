/**
 * No chat lost to a crash or a full disk (issue 20, items 4–6): a daemon killed during a tool call
 * leaves a session the Messages API still takes; an append cut short by a full disk costs no turn;
 * the home's I/O errors are said as such, leave no empty or torn file, and a call that succeeded
 * stays a success. A full disk is a small tmpfs (root only: skipped with the reason otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ControlClient } from '../../src/client/control-client.js';
import { UNFINISHED } from '../../src/chat/repair.js';
import type { ChatEvent } from '../../src/protocol/types.js';
import { startDaemon } from '../support/daemon.js';
import { CLI, fixtureEntry, tempDir, waitFor } from '../support/fixtures.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const api = new MessagesApiStandIn();
const env = () => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: api.url });

beforeAll(() => api.start());
afterAll(() => api.stop());
afterEach(() => {
  expect(api.pending, 'every scripted reply was used').toBe(0);
  api.requests.length = 0;
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Block = { type: string; tool_use_id?: string; is_error?: boolean; content?: unknown };

describe('a daemon killed during a chat tool call (kill -9)', () => {
  it('leaves a session the Messages API still takes: the unanswered call is closed as an error', async () => {
    const dir = tempDir('mcpd-rec-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(configFile, JSON.stringify({ servers: { fx: fixtureEntry() } }));
    const serve = () =>
      execa(process.execPath, [CLI, 'serve', '--home', home, '--config', configFile], { reject: false, env: { ...process.env, ...env() } });
    const first = serve();
    cleanups.push(() => void first.kill('SIGKILL'));
    const socketPath = join(home, 'mcpd.sock');
    // Connected once the daemon is ready (its servers started).
    const connect = async () => {
      const c = await waitFor(() => ControlClient.connect({ socketPath }).catch(() => undefined), 20_000, 'the daemon');
      await waitFor(async () => (await c.request('status', {})).ready || undefined, 20_000, 'the daemon to be ready');
      return c;
    };
    let client = await connect();
    const events: ChatEvent[] = [];
    client.on('chat:event', (e) => events.push(e));
    api.script({ content: [{ type: 'tool_use', id: 'toolu_cut', name: 'fx__slow', input: { ms: 60_000 } }] });
    const session = await client.request('chat.new', {});
    void client.request('chat.send', { sessionId: session.id, message: 'be slow' }).catch(() => undefined);
    await waitFor(() => events.some((e) => e.type === 'tool_start') || undefined, 15_000, 'the tool call to start');
    first.kill('SIGKILL');
    await first;
    client.close();

    const second = serve();
    cleanups.push(async () => {
      second.kill('SIGTERM');
      await second;
    });
    client = await connect();
    api.script({ content: [{ type: 'text', text: 'I see the call did not finish.' }] });
    const result = await client.request('chat.send', { sessionId: session.id, message: 'what happened?' });
    expect(result).toMatchObject({ stopReason: 'end_turn', text: 'I see the call did not finish.' });
    // The history as sent: the tool call closed with an error result, then the new question.
    const sent = api.requests.at(-1)!.body.messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const closing = sent[2]!.content as Block[];
    expect(closing[0]).toMatchObject({ type: 'tool_result', tool_use_id: 'toolu_cut', is_error: true });
    expect(JSON.stringify(closing[0]!.content)).toContain(UNFINISHED);
    expect(closing.at(-1)).toMatchObject({ type: 'text', text: 'what happened?' });
    // And the daemon said so.
    const logs = await client.request('logs.read', { server: 'chat', lines: 50 });
    expect(logs.entries.some((e) => e.text.includes('fx__slow') && e.text.includes('the daemon stopped during them'))).toBe(true);
    client.close();
  }, 90_000);
});

const root = process.getuid?.() === 0;

/** Makes `path` a tmpfs of `bytes`; returns how to unmount it. */
function smallDisk(path: string, bytes: number): () => void {
  mkdirSync(path, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', path]);
  return () => execFileSync('umount', ['-l', path]);
}

/** Fills the disk that holds `folder` to the last byte. */
function fill(folder: string): string {
  const file = join(folder, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) execFileSync('sh', ['-c', `cat >> "${file}"`], { input: chunk });
  } catch {
    // full
  }
  for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
    try {
      execFileSync('sh', ['-c', `cat >> "${file}"`], { input: Buffer.alloc(size, 1) });
    } catch {
      // that much no longer fits
    }
  }
  return file;
}

/** Every file under `dir`, with its size. */
function files(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) out.push(...files(path));
    else out.push({ path, size: stat.size });
  }
  return out;
}

describe.skipIf(!root)('a full disk under MCPD_HOME (a tmpfs; needs root to mount)', () => {
  it('an append cut short costs no turn; what succeeded stays a success; no empty or torn file is left', async () => {
    const dir = tempDir('mcpd-rec-');
    cleanups.push(dir.cleanup);
    let unmount = () => undefined as void;
    const t = await startDaemon(
      { servers: { fx: fixtureEntry() }, chat: { maxToolResultChars: 500 } },
      { env: env(), beforeStart: (d) => (unmount = smallDisk(join(d, 'home'), 4 * 1024 * 1024)) },
    );
    cleanups.push(async () => {
      await t.daemon.stop('test done');
      unmount();
      await t.stop();
    });
    const client = await t.connect();
    const events: ChatEvent[] = [];
    client.on('chat:event', (e) => events.push(e));
    api.script({ content: [{ type: 'text', text: 'one' }] });
    const session = (await client.request('chat.send', { message: 'turn one' })).sessionId;

    const filler = fill(t.home);
    // A turn while the disk is full: its prompt is far larger than what the file's last page has left.
    api.script(
      { content: [{ type: 'tool_use', id: 'toolu_big', name: 'fx__big', input: { bytes: 300_000 } }] },
      { content: [{ type: 'text', text: 'two' }] },
    );
    const full = await client.request('chat.send', { sessionId: session, message: `turn two ${'x'.repeat(20_000)}` });
    expect(full.stopReason).toBe('end_turn');
    expect(events.some((e) => e.type === 'notice' && e.message.includes('could not be saved') && e.message.includes('disk is full'))).toBe(
      true,
    );
    // The call succeeded: Claude was told its (cut) result, not an error.
    const [result] = (api.requests.at(-1)!.body.messages.at(-1)!.content as Block[]).filter((b) => b.type === 'tool_result');
    expect(result).toMatchObject({ tool_use_id: 'toolu_big' });
    expect(result!.is_error ?? false).toBe(false);
    expect(JSON.stringify(result!.content)).toContain('could not be kept');

    rmSync(filler);
    api.script({ content: [{ type: 'text', text: 'three' }] });
    await client.request('chat.send', { sessionId: session, message: 'turn three' });
    await t.restart();
    const after = await t.connect();
    const history = await after.request('chat.history', { sessionId: session });
    expect(history.messages.filter((m) => m.role === 'user').map((m) => m.text.slice(0, 8))).toEqual(['turn one', 'turn two', 'turn thr']);
    expect(history.messages.filter((m) => m.role === 'assistant').map((m) => m.text)).toEqual(['one', '[called fx__big]', 'two', 'three']);
    // Nothing empty, nothing half-written beside it.
    const left = files(t.home).filter((f) => !f.path.endsWith('.sock'));
    expect(left.filter((f) => f.path.endsWith('.tmp'))).toEqual([]);
    expect(left.filter((f) => f.size === 0 && !f.path.includes('/logs/'))).toEqual([]);
  }, 90_000);

  it('mcpd start on a full disk says so, naming the home', async () => {
    const dir = tempDir('mcpd-rec-');
    cleanups.push(dir.cleanup);
    const home = join(dir.path, 'home');
    cleanups.push(smallDisk(home, 256 * 1024));
    const configFile = join(dir.path, 'mcp.config.json');
    writeFileSync(configFile, JSON.stringify({ servers: { fx: fixtureEntry() } }));
    fill(home);
    const start = await execa(process.execPath, [CLI, 'start', '--home', home, '--config', configFile], { reject: false, timeout: 60_000 });
    expect(start.exitCode).toBe(1);
    expect(String(start.stderr)).not.toContain('unexpected error');
    expect(String(start.stderr)).toContain('full');
    expect(String(start.stderr)).toContain(home);
  }, 90_000);
});
