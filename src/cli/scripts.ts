/**
 * A server script as `mcpd chat ./weather.py` names it, turned into the command that runs it: the
 * tutorial's job (`client.py path/to/server.py`) without a config. Resolved from the folder the
 * command is typed in; the command is absolute, so the daemon's folder does not matter.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, extname, join, resolve, sep } from 'node:path';
import { McpdError } from '../errors.js';
import { isExecutableFile } from '../util/files.js';

export interface ScriptServer {
  /** What the server is called: the file's name without its extension (`weather`). */
  name: string;
  /** The script, absolute. */
  file: string;
  command: string;
  args: string[];
  /** The script's folder: where a relative path inside the script starts. */
  cwd: string;
}

const NODE = new Set(['.js', '.mjs', '.cjs']);
const TYPESCRIPT = new Set(['.ts', '.mts', '.cts']);
/** Names that say nothing of the server: its folder says more (`weather/build/index.js` is `weather`). */
const GENERIC_NAMES = new Set(['index', 'main', 'server', 'app', '__main__', 'cli', 'mcp']);
const BUILD_FOLDERS = new Set(['build', 'dist', 'src', 'lib', 'out', 'bin', 'scripts']);

export const SCRIPT_KINDS =
  'a server script: .py (run with the Python of a .venv or venv beside it, uv run, python3 or python), .js/.mjs/.cjs (node), .ts (node with tsx), or an executable file';

/** The first of `names` found on PATH, absolute. */
export function onPath(names: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const folders = (env['PATH'] ?? '').split(delimiter).filter(Boolean);
  for (const name of names) {
    for (const folder of folders) {
      const candidate = join(folder, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/** `weather.py` → `weather`; `weather/build/index.js` → `weather`; anything not [A-Za-z0-9_-] → `-`. */
export function scriptName(file: string): string {
  let stem = basename(file, extname(file));
  if (GENERIC_NAMES.has(stem.toLowerCase())) {
    const folders = dirname(file).split(sep).filter(Boolean).reverse();
    const telling = folders.find((folder) => !BUILD_FOLDERS.has(folder.toLowerCase()));
    if (telling) stem = telling;
  }
  const clean = stem
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return clean || 'server';
}

function python(file: string, folder: string, env: NodeJS.ProcessEnv): Pick<ScriptServer, 'command' | 'args'> {
  // The script's own environment first: that is where its `mcp` package is installed.
  for (const venv of ['.venv', 'venv']) {
    for (const bin of ['bin/python', 'Scripts/python.exe']) {
      const candidate = join(folder, venv, bin);
      if (isExecutableFile(candidate)) return { command: candidate, args: [file] };
    }
  }
  const uv = existsSync(join(folder, 'pyproject.toml')) ? onPath(['uv'], env) : undefined;
  if (uv) return { command: uv, args: ['run', '--directory', folder, file] };
  const interpreter = onPath(['python3', 'python'], env);
  if (!interpreter) {
    throw new McpdError(
      'MCPD_USAGE',
      `${file} is a Python script, but there is no Python to run it: no .venv or venv beside it, and neither python3 nor python is on PATH.`,
    );
  }
  return { command: interpreter, args: [file] };
}

/** The tsx loader mcpd itself carries, so a `.ts` server needs nothing installed beside it. */
function tsxLoader(): string {
  return import.meta.resolve('tsx');
}

export function resolveScript(path: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): ScriptServer {
  const file = resolve(cwd, path);
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new McpdError(
      'MCPD_USAGE',
      `No such file: ${path} (looked for ${file}). mcpd chat takes ${SCRIPT_KINDS}; a prompt goes after -p.`,
    );
  }
  if (!stat.isFile()) throw new McpdError('MCPD_USAGE', `${path} is not a file. mcpd chat takes ${SCRIPT_KINDS}.`);
  const folder = dirname(file);
  const extension = extname(file).toLowerCase();
  const base = { name: scriptName(file), file, cwd: folder };
  if (extension === '.py') return { ...base, ...python(file, folder, env) };
  if (NODE.has(extension)) return { ...base, command: process.execPath, args: [file] };
  if (TYPESCRIPT.has(extension)) return { ...base, command: process.execPath, args: ['--import', tsxLoader(), file] };
  if (isExecutableFile(file)) return { ...base, command: file, args: [] };
  throw new McpdError(
    'MCPD_USAGE',
    `Server script must be a .py, .js or .ts file, or an executable: ${path}. mcpd chat takes ${SCRIPT_KINDS}.`,
  );
}
