/** Finding and reading the config file (cosmiconfig), then expansion and validation. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { McpdError } from '../errors.js';
import { expandEnv, type ExpansionProblem } from './expand.js';
import { validateConfig, type ConfigProblem } from './schema.js';
import type { ResolvedConfig } from './types.js';

export const SEARCH_PLACES = [
  'mcp.config.json',
  '.mcprc',
  '.mcprc.json',
  'mcp.config.js',
  'mcp.config.mjs',
  'mcp.config.cjs',
  'mcp.config.ts',
  'package.json',
];

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

const explorer = () =>
  cosmiconfig('mcp', { searchPlaces: SEARCH_PLACES, searchStrategy: 'project', cache: false });

/** Reads and validates; problems are returned, not thrown (for `mcpd config check`). */
export async function checkConfig(options: LoadOptions = {}): Promise<CheckedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  let found: { filepath: string; config: unknown; isEmpty?: boolean } | null;
  try {
    if (options.file !== undefined) {
      const file = resolve(cwd, options.file);
      if (!existsSync(file)) throw new McpdError('MCPD_CONFIG_NOT_FOUND', `Config file ${file} does not exist.`);
      found = await explorer().load(file);
    } else {
      found = await explorer().search(cwd);
    }
  } catch (cause) {
    if (cause instanceof McpdError) throw cause;
    throw new McpdError('MCPD_CONFIG_UNREADABLE', `Cannot read the config: ${(cause as Error).message}`, { cause });
  }
  if (!found) {
    throw new McpdError(
      'MCPD_CONFIG_NOT_FOUND',
      `No config found from ${cwd} up to the project root (looked for ${SEARCH_PLACES.join(', ')}#mcp). Create mcp.config.json or pass --config FILE.`,
    );
  }
  const file = found.filepath;
  // An empty file is refused, not read as "no servers": an editor that truncates before it writes
  // would otherwise make a reload stop every server.
  if (found.isEmpty || found.config === undefined || found.config === null) {
    throw new McpdError('MCPD_CONFIG_UNREADABLE', `The config file ${file} is empty.`);
  }
  const expansion: ExpansionProblem[] = [];
  // ${MCPD_CONFIG_DIR} is the config file's folder, so a config can name paths beside itself.
  const expanded = expandEnv(found.config, { MCPD_CONFIG_DIR: dirname(file), ...env }, expansion);
  const result = validateConfig(expanded, dirname(file), file);
  const problems = [...expansion, ...(result.ok ? [] : result.problems)];
  if (problems.length > 0 || !result.ok) return { file, problems, warnings: result.warnings };
  return { file, problems, warnings: result.warnings, config: result.config };
}

/** Reads and validates; throws MCPD_CONFIG_INVALID listing every problem with its path. */
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
