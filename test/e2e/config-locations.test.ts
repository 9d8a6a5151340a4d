/**
 * Where mcpd finds its config, as a new user meets it: `mcpd init` writes the user's config,
 * `mcpd start` from a folder with no config of its own uses it, and `mcpd start` in a folder
 * whose config is not the one running says so instead of silently using the other.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-config-loc-');
const xdg = join(dir.path, 'xdg');
const home = join(dir.path, 'mcpd-home');
const nowhere = join(dir.path, 'nowhere');
const project = join(dir.path, 'project');
mkdirSync(nowhere);
mkdirSync(project);

function mcpd(args: string[], cwd: string) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    cwd,
    env: { MCPD_HOME: home, XDG_CONFIG_HOME: xdg, HOME: dir.path },
    timeout: 60_000,
  });
}

afterAll(async () => {
  await mcpd(['stop'], nowhere);
  dir.cleanup();
});

describe('config locations', () => {
  it("mcpd init writes the user's config once, with comments, and it checks clean", async () => {
    const first = await mcpd(['init'], nowhere);
    const file = join(xdg, 'mcpd', 'mcp.config.json');
    expect([first.exitCode, first.stdout]).toEqual([0, expect.stringContaining(`Wrote ${file}.`)]);
    expect(readFileSync(file, 'utf8')).toContain('// A local server');
    const again = await mcpd(['init'], nowhere);
    expect([again.exitCode, again.stderr]).toEqual([1, expect.stringContaining('exists already')]);
    const check = await mcpd(['config', 'check'], nowhere);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(file);
  });

  it("mcpd start from a folder without a config runs the user's; from a folder with another, it says which runs", async () => {
    // The user's config, with a server that needs no network.
    writeFileSync(join(xdg, 'mcpd', 'mcp.config.json'), `// mine\n${JSON.stringify({ servers: { fx: fixtureEntry() } }, null, 2)}\n`);
    const started = await mcpd(['start'], nowhere);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout).toContain(`config  ${join(xdg, 'mcpd', 'mcp.config.json')}`);
    expect((await mcpd(['start'], nowhere)).exitCode).toBe(0); // the same config: already running is fine
    writeFileSync(join(project, 'mcp.config.json'), JSON.stringify({ servers: { other: fixtureEntry() } }));
    const elsewhere = await mcpd(['start'], project);
    expect(elsewhere.exitCode).toBe(1);
    expect(elsewhere.stderr).toContain(`with ${join(xdg, 'mcpd', 'mcp.config.json')},`);
    expect(elsewhere.stderr).toContain(`not with the config found here: ${join(project, 'mcp.config.json')}`);
    expect(elsewhere.stderr).toContain('mcpd stop && mcpd start');
    const extra = await mcpd(['start', 'help'], nowhere);
    expect([extra.exitCode, extra.stderr]).toEqual([2, 'mcpd start does not take "help". See: mcpd --help']);
  });
});
