/**
 * What the daemon keeps must not grow without bound: chat sessions in memory and on disk,
 * session files that grow by what a step adds, and the daemon's own log file.
 */
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Chat, MAX_CACHED_SESSIONS, SESSION_IDLE_MS } from '../../src/chat/chat.js';
import { SessionStore, type ChatSession } from '../../src/chat/session-store.js';
import type { ChatConfig } from '../../src/config/types.js';
import { LogStore } from '../../src/logs/store.js';
import { RotatingFile } from '../../src/logs/rotating-file.js';
import { tempDir } from '../support/fixtures.js';

let dir: ReturnType<typeof tempDir>;
let chatConfig: ChatConfig;
let service: Chat;

function makeService(): Chat {
  return new Chat({
    home: dir.path,
    config: () => chatConfig,
    tools: () => [],
    instructions: () => undefined,
    callTool: async () => ({ content: [] }),
    env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' },
    log: new LogStore().logger('chat'),
  });
}

function saved(store: SessionStore, text = 'hello'): ChatSession {
  const session = store.create('m');
  session.messages.push({ role: 'user', content: text }, { role: 'assistant', content: [{ type: 'text', text: 'ok' }] });
  session.turns.push({
    id: 't1',
    startedAt: new Date().toISOString(),
    stopReason: 'end_turn',
    steps: 1,
    usage: { inputTokens: 1, outputTokens: 1, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
  });
  store.save(session);
  return session;
}

beforeEach(() => {
  dir = tempDir('mcpd-ret-');
  chatConfig = {};
  service = makeService();
});

afterEach(async () => {
  await service.stop();
  dir.cleanup();
});

describe('chat sessions in memory', () => {
  it('holds at most MAX_CACHED_SESSIONS, evicts idle ones, and keeps those a client watches', async () => {
    const ids = Array.from({ length: MAX_CACHED_SESSIONS + 10 }, () => saved(service.store).id);
    const watcher = { id: 1, send: () => undefined };
    service.attach(ids[0]!, watcher);
    for (const id of ids) service.history(id);
    expect(service.cachedSessions).toBeLessThanOrEqual(MAX_CACHED_SESSIONS);
    expect(service.evictIdle(Date.now() + SESSION_IDLE_MS + 1)).toBeGreaterThan(0);
    expect(service.cachedSessions).toBe(1); // the watched one
    service.detach(watcher);
    service.evictIdle(Date.now() + SESSION_IDLE_MS + 1);
    expect(service.cachedSessions).toBe(0);
    // Evicted is not lost: it loads again from disk.
    expect(service.history(ids[5]!)).toEqual([
      { role: 'user', text: 'hello' },
      { role: 'assistant', text: 'ok' },
    ]);
  });
});

describe('session files', () => {
  it('grow by what a step adds, not by the whole session again', () => {
    const store = new SessionStore(join(dir.path, 'sessions'));
    const session = saved(store, 'x'.repeat(200_000));
    const file = store.path(session.id);
    const first = statSync(file).size;
    for (let i = 0; i < 20; i += 1) {
      session.messages.push({ role: 'user', content: `step ${i}` });
      store.save(session);
    }
    const growth = statSync(file).size - first;
    expect(growth).toBeLessThan(20 * 2_000); // ~20 small records, not 20 × 200 kB
    const loaded = new SessionStore(store.dir).load(session.id);
    expect(loaded.messages).toHaveLength(22);
    expect(loaded.messages.at(-1)).toEqual({ role: 'user', content: 'step 19' });
  });

  it('a last message rewritten in place (a prompt added to it) is saved, and a torn last line is skipped', () => {
    const store = new SessionStore(join(dir.path, 'sessions'));
    const session = saved(store);
    session.messages.push({ role: 'user', content: [{ type: 'text', text: 'a' }] });
    store.save(session);
    (session.messages.at(-1)!.content as { type: 'text'; text: string }[]).push({ type: 'text', text: 'b' });
    store.save(session);
    writeFileSync(store.path(session.id), '{"i": 9, "m": {"role"', { flag: 'a' }); // a crash mid-write
    const loaded = store.load(session.id);
    expect(loaded.messages).toHaveLength(3);
    expect(loaded.messages.at(-1)!.content).toEqual([
      { type: 'text', text: 'a' },
      { type: 'text', text: 'b' },
    ]);
  });

  it('sessions saved by older builds (ID.json) still load', () => {
    const store = new SessionStore(join(dir.path, 'sessions'));
    const legacy = store.create('m');
    legacy.turns.push({
      id: 't1',
      startedAt: '',
      stopReason: 'end_turn',
      steps: 1,
      usage: { inputTokens: 0, outputTokens: 0, cacheCreationInputTokens: 0, cacheReadInputTokens: 0 },
    });
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(join(store.dir, `${legacy.id}.json`), JSON.stringify(legacy));
    expect(store.load(legacy.id).turns).toHaveLength(1);
    expect(store.list().map((s) => s.id)).toContain(legacy.id);
  });
});

describe('pruning past sessions', () => {
  it('removes sessions (and their tool results) older than maxAgeDays, then the oldest past maxTotalMB', () => {
    const old = saved(service.store);
    const results = join(dir.path, 'tool-results', old.id);
    mkdirSync(results, { recursive: true });
    writeFileSync(join(results, 'toolu_1.txt'), 'full text');
    const fortyDaysAgo = (Date.now() - 40 * 86_400_000) / 1000;
    utimesSync(service.store.path(old.id), fortyDaysAgo, fortyDaysAgo);
    const keep = saved(service.store);
    mkdirSync(join(dir.path, 'tool-results', 'orphan-dir'), { recursive: true });
    expect(service.prune().removed).toEqual([old.id]);
    expect(existsSync(results)).toBe(false);
    expect(existsSync(join(dir.path, 'tool-results', 'orphan-dir'))).toBe(false);
    expect(existsSync(service.store.path(keep.id))).toBe(true);

    chatConfig = { retention: { maxTotalMB: 0.05 } }; // 50 kB
    const big = saved(service.store, 'z'.repeat(40_000));
    const hourAgo = (Date.now() - 3_600_000) / 1000;
    utimesSync(service.store.path(big.id), hourAgo, hourAgo);
    saved(service.store, 'y'.repeat(40_000));
    const { removed } = service.prune();
    expect(removed).toContain(big.id);
    expect(readdirSync(service.store.dir)).toHaveLength(2);
  });
});

describe('the daemon log file', () => {
  it('rotates by size and keeps a bounded number of files', () => {
    const file = join(dir.path, 'daemon.log');
    const log = new RotatingFile(file, 1_000, 2);
    for (let i = 0; i < 100; i += 1) log.write(`${'line'.padEnd(48, '.')} ${String(i).padStart(3)}\n`);
    log.close();
    expect(
      readdirSync(dir.path)
        .filter((n) => n.startsWith('daemon.log'))
        .sort(),
    ).toEqual(['daemon.log', 'daemon.log.1', 'daemon.log.2']);
    for (const name of ['daemon.log', 'daemon.log.1', 'daemon.log.2'])
      expect(statSync(join(dir.path, name)).size).toBeLessThanOrEqual(1_000);
  });
});
