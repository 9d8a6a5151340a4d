/** Finding (locate.ts) and reading the config file (cosmiconfig; JSON with comments), then expansion and validation. */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Loader } from 'cosmiconfig';
import type { ParseError } from 'jsonc-parser';
import { pathToFileURL } from 'node:url';
import { McpdError } from '../errors.js';
import { registerSelfImports } from '../util/self-imports.js';
import { expandEnv, type ExpansionProblem } from './expand.js';
import { locateConfig, SEARCH_PLACES, userConfigFile } from './locate.js';
import { invalidUtf8At, shapeProblems } from './shape.js';
import { validateConfig, type ConfigProblem } from './validate.js';
import type { ResolvedConfig } from './types.js';
import { fromVsCode, isVsCodeConfig } from './vscode.js';

export { SEARCH_PLACES } from './locate.js';

export interface LoadOptions {
  /** An explicit file (`--config`); otherwise searched from `cwd` up to the project root. */
  file?: string | undefined;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface CheckedConfig {
  file: string;
  problems: ConfigProblem[];
  warnings: string[];
  config?: ResolvedConfig;
}

/**
 * JSON with comments and trailing commas (JSONC), as editors write it; errors name line and
 * column. Plain JSON is parsed as such; the JSONC parser is loaded only for a file that needs it.
 */
export const loadJsonc: Loader = async (filepath, content) => {
  try {
    return JSON.parse(content) as unknown;
  } catch {
    // comments, trailing commas, or an error to locate
  }
  const { parse, printParseErrorCode } = await import('jsonc-parser');
  const errors: ParseError[] = [];
  const value: unknown = parse(content, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    const before = content.slice(0, first.offset);
    const line = before.split('\n').length;
    const column = first.offset - before.lastIndexOf('\n');
    throw new Error(`${filepath}:${line}:${column}: ${printParseErrorCode(first.error)}`);
  }
  return value;
};

/**
 * `mcp.config.ts` through tsx, which the daemon has (cosmiconfig's own TypeScript loader needs
 * the typescript package, which an installed mcpd does not carry). Each load is fresh, so a
 * reload sees the edit.
 */
export const loadTypeScript: Loader = async (filepath) => {
  const { tsImport } = await import('tsx/esm/api');
  const module = (await tsImport(pathToFileURL(filepath).href, { parentURL: pathToFileURL(filepath).href })) as { default?: unknown };
  const value = module.default ?? module;
  // Compiled to CommonJS (outside an ESM package), the default export comes wrapped once more.
  if (value && typeof value === 'object' && 'default' in value && !('servers' in value) && !('mcpServers' in value)) {
    return value.default;
  }
  return value;
};

async function explorer() {
  const { cosmiconfig } = await import('cosmiconfig');
  return cosmiconfig('mcp', {
    searchPlaces: SEARCH_PLACES,
    cache: false,
    loaders: { '.json': loadJsonc, '.ts': loadTypeScript, '.mts': loadTypeScript, '.cts': loadTypeScript },
  });
}

/**
 * Reads a config file as cosmiconfig does. A file of JSON (every config but package.json's
 * `mcp` key, YAML and code) is read here with the same loader: the daemon's start then spends
 * nothing on loading cosmiconfig and its YAML parser before it spawns the servers.
 */
async function readConfigFile(file: string): Promise<{ filepath: string; config: unknown; isEmpty?: boolean } | null> {
  const filepath = resolve(file);
  if (!filepath.endsWith('.json') || basename(filepath) === 'package.json') return (await explorer()).load(filepath);
  const content = readFileSync(filepath, 'utf8');
  if (content.trim() === '') return { filepath, config: undefined, isEmpty: true };
  const config: unknown = await loadJsonc(filepath, content);
  // cosmiconfig's `$import` (other files merged in) is cosmiconfig's to do.
  if (config !== null && typeof config === 'object' && Object.hasOwn(config, '$import')) return (await explorer()).load(filepath);
  return { filepath, config };
}

/** Reads and validates; problems are returned, not thrown (for `mcpd config check`). */
export async function checkConfig(options: LoadOptions = {}): Promise<CheckedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const located = locateConfig({ file: options.file, cwd, env });
  if (!located) {
    throw new McpdError(
      'MCPD_CONFIG_NOT_FOUND',
      `No config found: not in ${cwd} or up to its project's root (${SEARCH_PLACES.join(', ')}), and no user config at ${userConfigFile(env)}. Create one with: mcpd init (or pass --config FILE).`,
    );
  }
  if (located.source === 'given' && !existsSync(located.file))
    throw new McpdError('MCPD_CONFIG_NOT_FOUND', `Config file ${located.file} does not exist.`);
  let found: { filepath: string; config: unknown; isEmpty?: boolean } | null;
  const code = /\.[mc]?[jt]s$/.test(located.file);
  // A config in code may import mcpd/config (defineConfig) wherever it lives.
  if (code) registerSelfImports();
  // A file of JSON must be UTF-8: a broken byte would otherwise become U+FFFD, silently.
  if (!code) {
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(located.file);
    } catch {
      // cosmiconfig says why below
    }
    const at = bytes ? invalidUtf8At(bytes) : undefined;
    if (at !== undefined)
      throw new McpdError('MCPD_CONFIG_UNREADABLE', `Cannot read the config: ${located.file} is not valid UTF-8 (at byte ${at}).`);
  }
  try {
    found = await readConfigFile(located.file);
  } catch (cause) {
    throw new McpdError('MCPD_CONFIG_UNREADABLE', `Cannot read the config: ${(cause as Error).message}`, { cause });
  }
  if (!found) throw new McpdError('MCPD_CONFIG_UNREADABLE', `The config file ${located.file} is empty.`);
  const file = found.filepath;
  // An empty file is refused, not read as "no servers": an editor that truncates before it writes
  // would otherwise make a reload stop every server.
  if (found.isEmpty || found.config === undefined || found.config === null) {
    throw new McpdError('MCPD_CONFIG_UNREADABLE', `The config file ${file} is empty.`);
  }
  // Too deep, or holding a key objects cannot: said before anything walks it.
  const shape = shapeProblems(found.config);
  if (shape.length > 0) return { file, problems: shape, warnings: [] };
  const expansion: ExpansionProblem[] = [];
  const vscode = isVsCodeConfig(file);
  const raw = vscode ? fromVsCode(found.config, file, expansion) : found.config;
  // Relative paths are the config's folder's (VS Code's: the workspace folder, above .vscode/).
  const baseDir = vscode ? dirname(dirname(file)) : dirname(file);
  // ${MCPD_CONFIG_DIR} is that folder, so a config can name paths beside itself.
  const expanded = expandEnv(raw, { MCPD_CONFIG_DIR: baseDir, ...env }, expansion);
  const result = validateConfig(expanded, baseDir, file);
  const problems = [...expansion, ...(result.ok ? [] : result.problems)];
  if (problems.length > 0 || !result.ok) return { file, problems, warnings: result.warnings };
  return { file, problems, warnings: result.warnings, config: result.config };
}

/** Reads and validates; throws MCPD_CONFIG_INVALID listing every problem with its path. */
/**
 * What a daemon runs on when no config is found and that is fine (`mcpd chat ./weather.py` in a
 * folder without one): no configured servers, every default.
 */
export function emptyConfig(dir: string): ResolvedConfig {
  const checked = validateConfig({ servers: {} }, dir);
  if (!checked.ok) throw new Error('the empty config does not validate');
  return { ...checked.config, warnings: ['no config found: no configured servers (mcpd init writes one; mcpd reload then loads it)'] };
}

export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const checked = await checkConfig(options);
  if (!checked.config) {
    const lines = checked.problems.map((p) => `  ${p.path}: ${p.message}`);
    throw new McpdError('MCPD_CONFIG_INVALID', `Invalid config ${checked.file}:\n${lines.join('\n')}`, {
      details: { file: checked.file, problems: checked.problems },
    });
  }
  return checked.config;
}
