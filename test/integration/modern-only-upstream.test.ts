/**
 * A remote server of the 2026-07-28 revision only (the v2 SDK's handler with legacy 'reject'):
 * with `protocol` left out, mcpd finds that out with `server/discover` and speaks 2026-07-28 to
 * it; pinned to 2025-11-25, it says why that cannot work — the server's own answer (400,
 * -32022, the revisions it speaks) — instead of the legacy SSE endpoint's 404 it tried next.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let server: ResultPromise | undefined;
let t: TestDaemon | undefined;

beforeAll(async () => {
  // Port 0, and the one it got read from what it says: a port picked before it binds could be
  // taken by another run on the machine in between.
  server = execa(process.execPath, [join(ROOT, 'test/fixtures/modern-only-server.mjs'), 'http', '0'], { reject: false });
  let said = '';
  server.stderr?.on('data', (chunk: Buffer) => (said += String(chunk)));
  let exited: string | undefined;
  void server.then((r) => (exited = `exited ${r.exitCode ?? r.signal}`));
  const url = await waitFor(
    () => {
      // A fixture that died says why, at once.
      if (exited) throw new Error(`the modern-only server ${exited}: ${said}`);
      return /modern-only on (http:\/\/\S+)/.exec(said)?.[1];
    },
    60_000,
    'the server to listen (a loaded machine may take a while to load the SDK)',
  );
  const restart = { maxRestarts: 1, windowMs: 60_000, initialDelayMs: 50, maxDelayMs: 100 };
  t = await startDaemon({
    servers: {
      m: { url, restart },
      old: { url, restart, protocol: '2025-11-25' },
    },
    gateway: { http: { port: 0 } },
  });
}, 120_000);

afterAll(async () => {
  await t?.stop();
  server?.kill('SIGTERM');
  await server;
});

describe('a remote server of 2026-07-28 only', () => {
  it('is spoken to at 2026-07-28: status says so, and its tools are called', async () => {
    // A first try may fail on a loaded machine (then it is retried): what counts is that it runs.
    await waitFor(
      () => t!.daemon.status().servers.find((s) => s.name === 'm')!.state === 'running' || undefined,
      30_000,
      `m running (${JSON.stringify(t!.daemon.status().servers.find((s) => s.name === 'm')?.lastError)})`,
    );
    const status = t!.daemon.status().servers.find((s) => s.name === 'm')!;
    expect(status).toMatchObject({ state: 'running', transport: 'http', protocolVersion: '2026-07-28', toolCount: 2 });
    const client = await t!.connect();
    const result = await client.request('tools.call', { name: 'm__hello', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'hello from 2026' }]);
  });

  it('pinned to 2025-11-25: reported with its own answer, not as a missing SSE endpoint', () => {
    const status = t!.daemon.status().servers.find((s) => s.name === 'old')!;
    expect(status).toMatchObject({ state: 'failed', restarts: 0 });
    expect(status.protocolVersion).toBeNull();
    expect(status.lastError?.message).toContain(
      '(Streamable HTTP) answered HTTP 400: it speaks only protocol revision 2026-07-28, and servers.old.protocol is "2025-11-25" (leave it out to negotiate)',
    );
    expect(status.lastError?.message).not.toContain('legacy SSE');
    // What the SSE attempt met is in the server's log, for whoever wants it.
    const lines = t!.daemon.logs.read('old', 100).map((e) => e.text);
    expect(lines.some((line) => line.includes('the legacy SSE transport failed too'))).toBe(true);
  });

  it('is told, with each request, what the 2025 client behind mcpd declared (the UI extension, for one)', async () => {
    const base = t!.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
    const seen = async (capabilities: Record<string, unknown>) => {
      const host = new Client({ name: 'a-2025-host', version: '1.0.0' }, { capabilities });
      await host.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
      try {
        const result = await host.callTool({ name: 'm__caps', arguments: {} });
        return JSON.parse((result.content as { text: string }[])[0]!.text) as Record<string, unknown> | null;
      } finally {
        await host.close();
      }
    };
    const ui = { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } };
    expect(await seen({ extensions: ui })).toMatchObject({ extensions: ui });
    expect((await seen({}))?.['extensions']).toBeUndefined();
  });
});
