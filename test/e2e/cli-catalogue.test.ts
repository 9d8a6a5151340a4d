/**
 * The CLI's catalogue commands and manners, as a user meets them: one tool in full, resources and
 * prompts, each command's own --help, colour only where it belongs (NO_COLOR, pipes), and shell
 * completion that knows the daemon's servers and tools (bash, run for real).
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureEntry, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-cli-cat-');
const home = join(dir.path, 'home');
const bin = join(dir.path, 'bin');

function mcpd(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [CLI, ...args], { reject: false, cwd: dir.path, env: { MCPD_HOME: home, ...env }, timeout: 30_000 });
}

beforeAll(async () => {
  writeFileSync(join(dir.path, 'mcp.config.json'), JSON.stringify({ servers: { fx: fixtureEntry() } }));
  mkdirSync(bin);
  symlinkSync(CLI, join(bin, 'mcpd'));
  expect((await mcpd(['start'])).exitCode).toBe(0);
}, 30_000);

afterAll(async () => {
  await mcpd(['stop']);
  dir.cleanup();
});

describe('catalogue commands', () => {
  it('tools TOOL shows one tool with its schema; a typo gets a suggestion', async () => {
    const one = await mcpd(['tools', 'fx__echo']);
    expect(one.stdout).toContain('fx__echo  (server fx, its own name "echo")');
    expect(one.stdout).toContain('"required": [');
    expect(one.stdout).toContain(`Call it with: mcpd call fx__echo '{"message":"…"}'`);
    expect((await mcpd(['server', 'restart', 'fxx'])).stderr).toBe(
      'No server named "fxx" in the config; did you mean "fx"? (servers: fx).',
    );
    const typo = await mcpd(['tools', 'fx__ecko']);
    expect([typo.exitCode, typo.stderr]).toEqual([1, 'No server or tool named "fx__ecko". Did you mean "fx__echo"? See: mcpd tools']);
  });

  it('resources, resource read, prompts, prompt get', async () => {
    expect((await mcpd(['resources'])).stdout).toMatch(/fixture:\/\/secret\s+fx/);
    expect((await mcpd(['resources'])).stdout).toContain('1 resource.');
    expect((await mcpd(['resource', 'read', 'fixture://secret'])).stdout).toContain('config: key=');
    expect((await mcpd(['prompts'])).stdout).toMatch(/fx__secret_prompt\s+fx/);
    expect((await mcpd(['prompt', 'get', 'fx__secret_prompt'])).stdout).toMatch(/^user: /);
    expect((await mcpd(['prompt', 'get'])).exitCode).toBe(2);
  }, 120_000); // six commands, each a process: on a loaded machine that is more than the default
});

describe('manners', () => {
  it('every command has its own --help with an example', async () => {
    for (const command of ['start', 'call', 'server', 'auth', 'connect', 'completion', 'service', 'prompt']) {
      const help = await mcpd([command, '--help']);
      expect(help.exitCode).toBe(0);
      expect(help.stdout.startsWith(`mcpd ${command}`)).toBe(true);
      expect(help.stdout).toContain('Example: ');
    }
    expect((await mcpd(['help', 'logs'])).stdout).toContain('mcpd logs [SOURCE]');
  });

  it('colour on a terminal that takes it, never with NO_COLOR or --no-color, and never in a pipe', async () => {
    const forced = await mcpd(['status'], { FORCE_COLOR: '1' });
    expect(forced.stdout).toContain('\u001b[32mrunning');
    expect((await mcpd(['status'], { FORCE_COLOR: '1', NO_COLOR: '1' })).stdout).not.toContain('\u001b[');
    expect((await mcpd(['status', '--no-color'], { FORCE_COLOR: '1' })).stdout).not.toContain('\u001b[');
    expect((await mcpd(['status'])).stdout).not.toContain('\u001b[');
  });

  it('bash completion completes commands, tools and servers from the daemon', async () => {
    const complete = async (words: string[]) => {
      const script = `source <(mcpd completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _mcpd; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = await execa('bash', ['-c', script], {
        env: { PATH: `${bin}:${process.env['PATH']}`, MCPD_HOME: home },
        reject: false,
      });
      return result.stdout.split('\n').filter(Boolean);
    };
    expect(await complete(['mcpd', 'ca'])).toEqual(['call']);
    expect(await complete(['mcpd', 'call', 'fx__ec'])).toEqual(['fx__echo']);
    expect(await complete(['mcpd', 'server', 'restart', ''])).toEqual(['fx']);
    expect(await complete(['mcpd', 'call', '--timeout', '5', 'fx__ec'])).toEqual(['fx__echo']);
    expect((await mcpd(['completion', 'zsh'])).stdout).toContain('compdef _mcpd mcpd');
    expect((await mcpd(['completion', 'fish'])).stdout).toContain('complete -c mcpd');
  });
});
