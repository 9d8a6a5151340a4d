/**
 * The edits `mcpd server …` and the dashboard share (config/server-edit.ts): planned on a real
 * file, comments kept, a masked value sent back keeping the file's, a kind switch dropping the
 * other kind's fields, and refusals that name the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { maskedEntry, planServerEdit, updatedEntry } from '../../src/config/server-edit.js';
import { SECRET_MASK } from '../../src/util/secrets.js';
import { tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-server-edit-');
afterAll(() => dir.cleanup());

const TEXT = `{
  // kept
  "servers": {
    "api": { "command": "node", "args": ["api.js"], "env": { "API_TOKEN": "tok-0123456789abcdefghij", "MODE": "dev", "HOME_DIR": "\${HOME}" }, "tools": { "deny": ["x_*"] } }
  }
}
`;

function file(name: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, TEXT);
  return path;
}

describe('server edits', () => {
  it('masks what looks secret for a page, keeping ${VAR}s and harmless values', () => {
    const entry = { command: 'x', env: { API_TOKEN: 'tok-0123456789abcdefghij', MODE: 'dev', HOME_DIR: '${HOME}' }, headers: { A: 'b' } };
    expect(maskedEntry(entry)).toEqual({
      command: 'x',
      env: { API_TOKEN: SECRET_MASK, MODE: 'dev', HOME_DIR: '${HOME}' },
      headers: { A: SECRET_MASK },
    });
    expect(maskedEntry({ url: 'https://h/mcp?key=abcdef123456' })['url']).toBe(`https://h/mcp?key=${SECRET_MASK}`);
  });

  it('keeps the secret a masked value stands for, and what the change does not name', () => {
    const current = { command: 'node', env: { API_TOKEN: 'real-secret', MODE: 'dev' }, tools: { deny: ['x_*'] } };
    const next = updatedEntry(current, { command: 'node', env: { API_TOKEN: SECRET_MASK, MODE: 'prod', NEW: SECRET_MASK }, cwd: null });
    expect(next).toEqual({ command: 'node', env: { API_TOKEN: 'real-secret', MODE: 'prod', NEW: SECRET_MASK }, tools: { deny: ['x_*'] } });
  });

  it('drops the local fields when a server becomes remote, and the reverse', () => {
    const local = { command: 'node', args: ['a'], env: { A: '1' }, cwd: '/x', disabled: true };
    expect(updatedEntry(local, { url: 'https://h/mcp' })).toEqual({ url: 'https://h/mcp', disabled: true });
    const remote = { url: 'https://h/mcp?k=abcdef123456', headers: { Authorization: 'Bearer t' }, type: 'http' };
    expect(updatedEntry(remote, { command: 'node' })).toEqual({ command: 'node' });
    // A URL sent back as it was shown (masked) stays the file's.
    expect(updatedEntry(remote, { url: `https://h/mcp?k=${SECRET_MASK}` })['url']).toBe(remote.url);
  });

  it('plans an update that keeps the comments and the fields the page never sees', () => {
    const path = file('update.json');
    const plan = planServerEdit(path, {
      action: 'update',
      name: 'api',
      entry: { command: 'node', env: { API_TOKEN: SECRET_MASK, MODE: 'prod' } },
    });
    expect(plan.text).toContain('// kept');
    expect(plan.said).toBe(`Changed server "api" in ${path}.`);
    const after = (JSON.parse(plan.text.replace('// kept', '')) as { servers: Record<string, unknown> }).servers['api'];
    expect(after).toEqual({
      command: 'node',
      args: ['api.js'],
      env: { API_TOKEN: 'tok-0123456789abcdefghij', MODE: 'prod' },
      tools: { deny: ['x_*'] },
    });
    expect(readFileSync(path, 'utf8')).toBe(TEXT); // planned, not written
  });

  it('refuses what it cannot do, naming the file and the server', () => {
    const path = file('refuse.json');
    expect(() => planServerEdit(path, { action: 'add', name: 'api', entry: { command: 'x' } })).toThrow(
      /"api" is in .*refuse\.json already/,
    );
    expect(() => planServerEdit(path, { action: 'remove', name: 'nope' })).toThrow(
      /No server named "nope" in .*refuse\.json \(servers: api\)/,
    );
    expect(() => planServerEdit(path, { action: 'add', name: 'both', entry: { command: 'x', url: 'https://h' } })).toThrow(
      /servers\.both: has both "command" and "url"/,
    );
    expect(() => planServerEdit(path, { action: 'add', name: 'empty' })).toThrow(/needs its entry/);
    expect(planServerEdit(path, { action: 'add', name: 'api', entry: { command: 'y' }, replace: true }).said).toMatch(/^Replaced/);
  });
});
