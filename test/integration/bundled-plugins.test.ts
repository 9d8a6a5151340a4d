/**
 * The bundled plugins end to end, in a daemon with real servers: audit-log (with chat and CLI
 * callers, and rotation), redact-secrets (with the filesystem server), tool-filter (with
 * server-everything).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argumentsDigest } from '../../plugins/audit-log.js';
import { fixtureEntry, ROOT, waitFor } from '../support/fixtures.js';
import { MessagesApiStandIn } from '../support/messages-api.js';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

const plugin = (name: string) => join(ROOT, 'plugins', `${name}.ts`);
const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const FILESYSTEM = join(ROOT, 'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js');
const api = new MessagesApiStandIn();
let sandbox: string;
let t: TestDaemon;

// Fake credentials in the shapes the plugin looks for (none of them real).
const SECRETS = {
  anthropic: `sk-ant-api03-${'A1b2C3d4'.repeat(6)}`,
  aws: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: `aws_secret_access_key = ${'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'}`,
  github: `ghp_${'0123456789abcdefghij0123456789abcdef'}`,
  bearer: 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijklmnop',
  key: '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfake\nlines\n-----END RSA PRIVATE KEY-----',
};

beforeAll(async () => {
  await api.start();
  sandbox = mkdtempSync(join(tmpdir(), 'mcpd-bp-'));
  writeFileSync(join(sandbox, 'leaky.txt'), `config dump\n${Object.values(SECRETS).join('\n')}\nnothing secret here\n`);
  t = await startDaemon(
    {
      servers: {
        fx: fixtureEntry(),
        everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
        files: { command: process.execPath, args: [FILESYSTEM, sandbox] },
      },
      plugins: [
        [plugin('audit-log'), { maxBytes: 600, keep: 2 }],
        plugin('redact-secrets'),
        [
          plugin('tool-filter'),
          {
            allow: ['fx__*', 'files__read_text_file', 'everything__*'],
            deny: ['everything__get-env', 'everything__trigger-*'],
            rename: { 'everything__get-sum': 'add_numbers' },
            descriptions: { fx__echo: 'Repeats what you say.' },
          },
        ],
      ],
    },
    { env: { ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: api.url } },
  );
}, 30_000);

afterAll(async () => {
  await t?.stop();
  await api.stop();
  rmSync(sandbox, { recursive: true, force: true });
});

describe('tool-filter', () => {
  it('allows, denies, renames and re-describes across servers', async () => {
    const client = await t.connect();
    const names = (await client.request('tools.list', {})).tools.map((x) => x.name);
    expect(names).toContain('files__read_text_file');
    expect(names).not.toContain('files__write_file'); // not allowed
    expect(names).not.toContain('everything__get-env'); // denied
    expect(names.some((n) => n.startsWith('everything__trigger-'))).toBe(false);
    expect(names).toContain('add_numbers');
    expect(names).not.toContain('everything__get-sum');
    const echo = (await client.request('tools.list', { server: 'fx' })).tools.find((x) => x.name === 'fx__echo')!;
    expect(echo.description).toBe('Repeats what you say.');
    // The renamed tool still reaches everything's get-sum.
    const sum = await client.request('tools.call', { name: 'add_numbers', arguments: { a: 2, b: 3 } });
    expect(JSON.stringify(sum.content)).toContain('5');
    await expect(client.request('tools.call', { name: 'everything__get-env' })).rejects.toThrow('hidden by a plugin');
  });
});

describe('redact-secrets', () => {
  it("redacts every kind of credential from a real server's result, and says how many", async () => {
    const client = await t.connect();
    const result = await client.request('tools.call', { name: 'files__read_text_file', arguments: { path: join(sandbox, 'leaky.txt') } });
    const all = JSON.stringify(result);
    for (const [kind, secret] of Object.entries(SECRETS)) {
      const telltale =
        kind === 'awsSecret'
          ? 'wJalrXUtnFEMI'
          : kind === 'bearer'
            ? 'eyJhbGciOiJIUzI1NiJ9'
            : kind === 'key'
              ? 'MIIEowIBAAKCAQEAfake'
              : secret;
      expect(all, kind).not.toContain(telltale);
    }
    const text = String(result.content[0]!['text']);
    expect(text).toContain('[REDACTED Anthropic key]');
    expect(text).toContain('aws_secret_access_key = [REDACTED AWS secret key]');
    expect(text).toContain('Authorization: Bearer [REDACTED bearer token]');
    expect(text).toContain('nothing secret here');
    expect(result.content.at(-1)).toEqual({
      type: 'text',
      text: '[redact-secrets: 6 secrets redacted: 1 private key, 1 Anthropic key, 1 AWS access key, 1 AWS secret key, 1 GitHub token, 1 bearer token]',
    });
  });
});

describe('audit-log', () => {
  it('writes one JSON line per call from every path (CLI, chat; denied too), rotated by size', async () => {
    const client = await t.connect();
    await client.request('tools.call', { name: 'fx__echo', arguments: { message: 'audited' } });
    api.script(
      { content: [{ type: 'tool_use', name: 'fx__echo', input: { message: 'from chat' } }] },
      { content: [{ type: 'text', text: 'ok' }] },
    );
    const turn = await client.request('chat.send', { message: 'echo from chat' });
    const file = join(t.home, 'plugins', 'audit-log', 'audit.jsonl');
    const lines = () =>
      [file, `${file}.1`, `${file}.2`]
        .filter(existsSync)
        .flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    await waitFor(() => lines().some((l) => l['caller'] === 'chat'), 5_000, 'the chat call in the audit log');
    expect(lines()).toContainEqual(
      expect.objectContaining({
        caller: 'cli',
        tool: 'fx__echo',
        server: 'fx',
        args: argumentsDigest({ message: 'audited' }),
        outcome: 'ok',
        durationMs: expect.any(Number),
      }),
    );
    expect(lines()).toContainEqual(
      expect.objectContaining({
        caller: 'chat',
        session: turn.sessionId,
        tool: 'fx__echo',
        args: argumentsDigest({ message: 'from chat' }),
      }),
    );
    // The arguments themselves are never written.
    expect(readFileSync(file, 'utf8')).not.toContain('from chat');
    // Rotation: with maxBytes 600 a handful of calls rolls the file, and keep: 2 bounds the set.
    for (let i = 0; i < 12; i += 1) await client.request('tools.call', { name: 'fx__fail' });
    await waitFor(() => existsSync(`${file}.2`), 5_000, 'rotated files');
    expect(existsSync(`${file}.3`)).toBe(false);
    expect(readFileSync(file, 'utf8').length).toBeLessThanOrEqual(600);
    expect(
      lines()
        .filter((l) => l['tool'] === 'fx__fail')
        .every((l) => l['outcome'] === 'error'),
    ).toBe(true);
  });
});
