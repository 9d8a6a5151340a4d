/**
 * VS Code's `.vscode/mcp.json`, read as VS Code reads it: `${workspaceFolder}`, `${userHome}`,
 * `${env:VAR}` and a server's `envFile`. `${input:ID}` is a prompt VS Code shows and mcpd cannot:
 * it is a problem naming where it is, never passed to a server literally.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { ExpansionProblem } from './expand.js';

export function isVsCodeConfig(file: string): boolean {
  return /(^|[\\/])\.vscode[\\/]mcp\.json$/.test(file);
}

function substitute(value: string, workspaceFolder: string, path: string, problems: ExpansionProblem[]): string {
  return value.replace(/\$\{([^}]+)\}/g, (match, name: string) => {
    if (name === 'workspaceFolder') return workspaceFolder;
    if (name === 'userHome') return homedir();
    if (name === 'pathSeparator' || name === '/') return '/';
    if (name.startsWith('env:')) return `\${${name.slice(4)}}`; // expanded with the others next
    if (name.startsWith('input:')) {
      problems.push({
        path,
        message: `uses ${match}, a value VS Code asks for when it starts the server; mcpd cannot ask: put it in the environment and write \${env:NAME}`,
      });
      return '';
    }
    return match;
  });
}

function walk(value: unknown, workspaceFolder: string, path: string, problems: ExpansionProblem[]): unknown {
  if (typeof value === 'string') return substitute(value, workspaceFolder, path, problems);
  if (Array.isArray(value)) return value.map((item, i) => walk(item, workspaceFolder, `${path}[${i}]`, problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, walk(item, workspaceFolder, path ? `${path}.${key}` : key, problems)]),
    );
  }
  return value;
}

/** KEY=VALUE lines (comments, `export`, quotes), as dotenv files hold them. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    let value = match[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, '\n') : quoted[2]!;
    else value = value.replace(/\s+#.*$/, '');
    out[match[1]!] = value;
  }
  return out;
}

/** The file's content in mcpd's terms (before `${VAR}` expansion and validation). */
export function fromVsCode(raw: unknown, file: string, problems: ExpansionProblem[]): unknown {
  const workspaceFolder = dirname(dirname(file));
  const config = walk(raw, workspaceFolder, '', problems) as Record<string, unknown>;
  // `inputs` are VS Code's prompts: the problem is where one is used.
  const { inputs: _inputs, ...rest } = config;
  const servers = rest['servers'];
  if (servers && typeof servers === 'object') {
    for (const [name, entry] of Object.entries(servers as Record<string, Record<string, unknown>>)) {
      if (!entry || typeof entry !== 'object' || typeof entry['envFile'] !== 'string') continue;
      const envFile = resolve(workspaceFolder, entry['envFile']);
      delete entry['envFile'];
      try {
        // What the entry's own env says wins over the file.
        entry['env'] = { ...parseEnvFile(readFileSync(envFile, 'utf8')), ...(entry['env'] ?? {}) };
      } catch (error) {
        problems.push({ path: `servers.${name}.envFile`, message: `cannot read ${envFile}: ${(error as Error).message}` });
      }
    }
  }
  return rest;
}
