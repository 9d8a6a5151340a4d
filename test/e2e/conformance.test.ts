/**
 * The official MCP conformance suite (server mode) against mcpd's HTTP gateway: what a host
 * checks first (initialize, ping, tools/list) and DNS rebinding protection, on the merged
 * catalogue and on one server's endpoint. Needs Node >= 22 (`.ci/run` provides it on Node 20).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { node22, runScenario } from '../support/conformance.js';
import { fixtureEntry } from '../support/fixtures.js';
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
