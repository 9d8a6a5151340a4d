/**
 * The official MCP conformance suite (server mode) against mcpd's HTTP gateway: what a host
 * checks first (initialize, ping, tools/list) and DNS rebinding protection, on the merged
 * catalogue and on one server's endpoint. Needs Node >= 22 (`.ci/run` provides it on Node 20).
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node22, runClientSuite, runScenario, runSuite } from '../support/conformance.js';
import { fixtureEntry, freePort, ROOT, waitFor } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const node = node22();
let t: TestDaemon;
let base: string;

beforeAll(async () => {
  if (!node) return;
  t = await startDaemon({ servers: { fx: fixtureEntry(), other: fixtureEntry() }, gateway: { http: { port: 0 } } });
  base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
});

afterAll(async () => {
  await t?.stop();
});

const SCENARIOS = ['server-initialize', 'ping', 'tools-list', 'dns-rebinding-protection'];

describe.skipIf(!node)('the MCP conformance suite through the HTTP gateway', () => {
  for (const endpoint of ['/mcp', '/servers/fx/mcp']) {
    it(`${endpoint}: ${SCENARIOS.join(', ')}`, async () => {
      const results = await Promise.all(SCENARIOS.map((scenario) => runScenario(node!, `${base}${endpoint}`, scenario)));
      for (const r of results) expect(r.passed, `${r.scenario}: ${r.summary}`).toBe(true);
    }, 120_000);
  }
});

/** Two upstreams: the npm reference server, and our fixture of every scenario. */
const UPSTREAMS = [
  {
    name: 'server-everything',
    script: join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'),
    stdio: ['stdio'],
    http: (port: number) => ({ args: ['streamableHttp'], env: { PORT: String(port) } }),
    minimum: 10,
  },
  {
    name: 'our conformance fixture',
    script: join(ROOT, 'test/fixtures/conformance-server.mjs'),
    stdio: [],
    http: (port: number) => ({ args: ['http', String(port)], env: {} }),
    minimum: 30,
  },
];

for (const upstream of UPSTREAMS) {
  describe.skipIf(!node)(`nothing is lost in the relay: ${upstream.name} directly and through /servers/NAME/mcp`, () => {
    let server: ResultPromise | undefined;
    let relay: TestDaemon | undefined;
    let direct: string;

    beforeAll(async () => {
      const port = await freePort();
      const http = upstream.http(port);
      server = execa(process.execPath, [upstream.script, ...http.args], { env: http.env, reject: false });
      direct = `http://127.0.0.1:${port}/mcp`;
      await waitFor(
        async () => (await fetch(direct, { method: 'GET' }).catch(() => undefined)) !== undefined,
        15_000,
        `${upstream.name} over HTTP`,
      );
      relay = await startDaemon({
        servers: { up: { command: process.execPath, args: [upstream.script, ...upstream.stdio] }, 'up-http': { url: direct } },
        gateway: { http: { port: 0 } },
      });
    }, 60_000);

    afterAll(async () => {
      await relay?.stop();
      server?.kill('SIGTERM');
      await server;
    });

    it('every scenario that passes directly passes through mcpd, for a stdio and a remote upstream', async () => {
      const base = relay!.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
      const viaStdio = await runSuite(node!, `${base}/servers/up/mcp`, '2025-11-25');
      const viaHttp = await runSuite(node!, `${base}/servers/up-http/mcp`, '2025-11-25');
      const straight = await runSuite(node!, direct, '2025-11-25');
      expect(straight.passed.length).toBeGreaterThanOrEqual(upstream.minimum);
      for (const scenario of straight.passed) {
        expect(viaStdio.passed, `${scenario} through the stdio upstream`).toContain(scenario);
        expect(viaHttp.passed, `${scenario} through the remote upstream`).toContain(scenario);
      }
      console.info(
        `conformance 2025-11-25, ${upstream.name}: ${straight.passed.length} scenarios pass directly; through mcpd ${viaStdio.passed.length} (stdio upstream), ${viaHttp.passed.length} (remote upstream)`,
      );
    }, 600_000);

    // A 2026 client of mcpd, whatever era the upstream speaks: nothing it passes at 2025 is lost at
    // 2026 (where both revisions score it). Our fixture speaks both eras, so mcpd speaks 2026 to it
    // and passes every scored scenario: a 2026 upstream's input-required results reach the client
    // as the upstream asked them (its keys, its state under mcpd's seal), and the client's own
    // capabilities reach the upstream.
    it('at 2026-07-28 through mcpd: no scenario of 2025 lost, for a stdio and a remote upstream', async () => {
      const base = relay!.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
      for (const endpoint of ['up', 'up-http']) {
        const [old, now] = [
          await runSuite(node!, `${base}/servers/${endpoint}/mcp`, '2025-11-25'),
          await runSuite(node!, `${base}/servers/${endpoint}/mcp`, '2026-07-28'),
        ];
        const scored = [...now.passed, ...now.failed];
        for (const scenario of old.passed.filter((s) => scored.includes(s)))
          expect(now.passed, `${scenario} at 2026-07-28 through ${endpoint}\n${now.output.slice(-1500)}`).toContain(scenario);
        if (upstream.name === 'our conformance fixture') {
          expect(relay!.daemon.status().servers.find((s) => s.name === endpoint)?.protocolVersion).toBe('2026-07-28');
          expect(now.failed, now.output.slice(-2000)).toEqual([]);
        }
        console.info(`conformance 2026-07-28, ${upstream.name} via ${endpoint}: ${now.passed.length} of ${scored.length} scored pass`);
      }
    }, 600_000);
  });
}

describe.skipIf(!node)('our conformance fixture, directly, at both revisions the suite scores', () => {
  let server: ResultPromise | undefined;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    server = execa(process.execPath, [join(ROOT, 'test/fixtures/conformance-server.mjs'), 'http', String(port)], { reject: false });
    url = `http://127.0.0.1:${port}/mcp`;
    await waitFor(async () => (await fetch(url, { method: 'GET' }).catch(() => undefined)) !== undefined, 15_000, 'the fixture over HTTP');
  }, 30_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    await server;
  });

  // The yardstick the relay is measured by: every scored scenario of each revision.
  it('passes every scored scenario of 2025-11-25 and of 2026-07-28', async () => {
    const [old, now] = [await runSuite(node!, url, '2025-11-25'), await runSuite(node!, url, '2026-07-28')];
    expect(old.failed, old.output.slice(-2000)).toEqual([]);
    expect(now.failed, now.output.slice(-2000)).toEqual([]);
    expect([old.passed.length, now.passed.length]).toEqual([30, 37]);
  }, 600_000);
});

/** The scored scenarios of a client run: those the output does not list under "Not scored for". */
function scored(run: { passed: string[]; failed: string[]; output: string }) {
  const notScored = run.output.indexOf('Not scored for');
  const unscored = notScored === -1 ? [] : [...run.output.slice(notScored).matchAll(/^\s*[✓✗]\s+(\S+) \(/gm)].map((m) => m[1]!);
  const failed = run.failed.filter((s) => !unscored.includes(s));
  // What the suite said of each failed scenario, for the assertion's message.
  const lines = run.output.split('\n');
  const said = failed.map((name) =>
    lines
      .filter((line) => line.includes(name) || /✗|error|timed? ?out/i.test(line))
      .slice(0, 40)
      .join('\n'),
  );
  return { passed: run.passed.filter((s) => !unscored.includes(s)), failed, why: `${failed.join(', ')}\n${said.join('\n')}` };
}

describe.skipIf(!node)("the MCP conformance suite's client scenarios, with mcpd as the client", () => {
  // The adapter drives a real daemon: the scenario's server as a remote server in a config, mcpd
  // auth's flow when it asks for one, then tools through mcpd (test/conformance/client.mjs).
  const adapter = `"${process.execPath}" "${join(ROOT, 'test/conformance/client.mjs')}"`;

  it('2025-11-25: every scored scenario (initialize, calls, elicitation defaults, SSE retry, every authorization-code flow)', async () => {
    const run = scored(await runClientSuite(node!, adapter, { requirements: '2025-11-25' }));
    expect(run.failed, run.why).toEqual([]);
    expect(run.passed).toEqual(
      expect.arrayContaining(['initialize', 'tools_call', 'elicitation-sep1034-client-defaults', 'sse-retry', 'auth/scope-step-up']),
    );
    expect(run.passed.length).toBe(18);
  }, 600_000);

  it('2026-07-28: every scored scenario (input-required rounds, SEP-2243 headers, native registration, issuer checks)', async () => {
    const run = scored(await runClientSuite(node!, adapter, { requirements: '2026-07-28' }));
    expect(run.failed, run.why).toEqual([]);
    expect(run.passed).toEqual(
      expect.arrayContaining([
        'tools_call',
        'request-metadata',
        'sep-2322-client-request-state',
        'http-standard-headers',
        'http-custom-headers',
        'http-invalid-tool-headers',
        'auth/iss-wrong-issuer',
        'auth/metadata-issuer-mismatch',
        // These need mcpd to speak 2026-07-28 to the server itself (its mock has no 2025 endpoint).
        'auth/authorization-server-migration',
        'auth/scope-retry-limit',
        'auth/scope-step-up',
      ]),
    );
    expect(run.passed.length).toBe(32);
  }, 600_000);
});
