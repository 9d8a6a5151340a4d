/**
 * Where the config is, in this order: `--config`; the project's (searched from the current folder
 * up to the project's root: `mcp.config.json` and cosmiconfig's other `mcp` places, Claude Code's
 * `.mcp.json`, VS Code's `.vscode/mcp.json`); else the user's,
 * `$XDG_CONFIG_HOME/mcpd/mcp.config.json` (default `~/.config/mcpd/`), which `mcpd init` creates.
 * No parsing here (the thin CLI uses it to compare configs), beyond `package.json`'s `mcp` key.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export const SEARCH_PLACES = [
  'mcp.config.json',
  '.mcprc',
  '.mcprc.json',
  'mcp.config.js',
  'mcp.config.mjs',
  'mcp.config.cjs',
  'mcp.config.ts',
  '.mcp.json',
  '.vscode/mcp.json',
  'package.json',
];

export interface Located {
  file: string;
  /** Where it was found: given (--config), the project, or the user's config. */
  source: 'given' | 'project' | 'user';
}

export function userConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env['XDG_CONFIG_HOME'] && env['XDG_CONFIG_HOME'].startsWith('/') ? env['XDG_CONFIG_HOME'] : join(env['HOME'] ?? homedir(), '.config');
  return join(base, 'mcpd', 'mcp.config.json');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function hasMcpKey(packageJson: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(packageJson, 'utf8')) as { mcp?: unknown };
    return parsed.mcp !== undefined;
  } catch {
    return false;
  }
}

/** The config to use, or undefined when there is none anywhere. */
export function locateConfig(options: { file?: string | undefined; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Located | undefined {
  const cwd = options.cwd ?? process.cwd();
  if (options.file !== undefined) return { file: resolve(cwd, options.file), source: 'given' };
  const home = resolve(options.env?.['HOME'] ?? homedir());
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    for (const place of SEARCH_PLACES) {
      const candidate = join(dir, place);
      if (!isFile(candidate)) continue;
      if (place === 'package.json' && !hasMcpKey(candidate)) continue;
      return { file: candidate, source: 'project' };
    }
    // The project's root (or the home folder, or the top) ends the search.
    const root = existsSync(join(dir, 'package.json')) || existsSync(join(dir, '.git')) || dir === home || dirname(dir) === dir;
    if (root) break;
  }
  const user = userConfigFile(options.env);
  return isFile(user) ? { file: user, source: 'user' } : undefined;
}
