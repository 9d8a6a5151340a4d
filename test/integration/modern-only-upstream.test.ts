/**
 * A remote server of the 2026-07-28 revision only (the v2 SDK's handler with legacy 'reject'):
 * mcpd, which speaks 2025-11-25 to its servers for now, says so — the server's own answer (400,
 * -32022, the revisions it speaks) — instead of the legacy SSE endpoint's 404 it tried next.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let server: ResultPromise | undefined;
let t: TestDaemon | undefined;

beforeAll(async () => {
  const port = await freePort();
  server = execa(process.execPath, [join(ROOT, 'test/fixtures/modern-only-server.mjs'), 'http', String(port)], { reject: false });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitFor(async () => (await fetch(url, { method: 'GET' }).catch(() => undefined)) !== undefined, 15_000, 'the server');
  t = await startDaemon({ servers: { m: { url, restart: { maxRestarts: 1, windowMs: 60_000, initialDelayMs: 50, maxDelayMs: 100 } } } });
}, 30_000);

afterAll(async () => {
  await t?.stop();
  server?.kill('SIGTERM');
  await server;
});

describe('a remote server of 2026-07-28 only', () => {
  it('is reported with its own answer, not as a missing SSE endpoint', async () => {
    const status = t!.daemon.status().servers.find((s) => s.name === 'm')!;
    expect(status.state).not.toBe('running');
    expect(status.transport).toBe('http');
    expect(status.lastError?.message).toContain('(Streamable HTTP) answered HTTP 400: it speaks only protocol revision 2026-07-28');
    expect(status.lastError?.message).not.toContain('legacy SSE');
    // What the SSE attempt met is in the server's log, for whoever wants it.
    const lines = t!.daemon.logs.read('m', 100).map((e) => e.text);
    expect(lines.some((line) => line.includes('the legacy SSE transport failed too'))).toBe(true);
  });
});
