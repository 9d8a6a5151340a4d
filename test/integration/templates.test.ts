/**
 * A URI no server lists, routed by the server whose resource template it expands: read through
 * the control socket (mcpd resource read) and the merged /mcp, subscribed on /mcp; a URI no
 * template fits is refused by name; one server's endpoint keeps reading from its own server.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEntry, ROOT } from '../support/fixtures.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

let t: TestDaemon;
let base: string;

beforeAll(async () => {
  t = await startDaemon({
    servers: {
      conf: { command: process.execPath, args: [join(ROOT, 'test/fixtures/conformance-server.mjs')] },
      // A server with no templates: never the owner, and asking it does no harm.
      fx: fixtureEntry(),
    },
    gateway: { http: { port: 0 } },
  });
  base = t.daemon.status().fronts.find((f) => f.name === 'mcp-http')!.address;
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

describe('resources from templates', () => {
  it('reads a templated URI from the server whose template it expands', async () => {
    const client = await t.connect();
    const read = (await client.request('resources.read', { uri: 'test://template/42/data' })) as { contents: { text: string }[] };
    expect(JSON.parse(read.contents[0]!.text)).toEqual({ id: '42', templateTest: true, data: 'Data for ID: 42' });
    await expect(client.request('resources.read', { uri: 'test://nobody/1' })).rejects.toThrow(
      'No server lists a resource test://nobody/1, nor has a template it fits',
    );
  });

  it('on the merged /mcp: read and subscribe to a URI no server lists', async () => {
    const mcp = new Client({ name: 'templates-test', version: '1.0.0' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      const templates = await mcp.listResourceTemplates();
      expect(templates.resourceTemplates.map((r) => r.uriTemplate)).toContain('test://template/{id}/data');
      const read = await mcp.readResource({ uri: 'test://template/7/data' });
      expect(read.contents[0]).toMatchObject({ uri: 'test://template/7/data', mimeType: 'application/json' });
      await expect(mcp.subscribeResource({ uri: 'test://template/7/data' })).resolves.toEqual({});
      await expect(mcp.readResource({ uri: 'test://nobody/1' })).rejects.toThrow(/nor has a template it fits/);
    } finally {
      await mcp.close();
    }
  });
});
