/**
 * Changing one server of a config file in place (`mcpd server add|remove|enable|disable`),
 * keeping its comments and formatting (jsonc-parser's edits), refusing what would not validate,
 * and writing atomically: the file is either as it was or as asked.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyEdits, findNodeAtLocation, modify, parse, parseTree, type FormattingOptions, type ParseError } from 'jsonc-parser';
import { McpdError } from '../errors.js';
import { expandEnv, type ExpansionProblem } from './expand.js';
import { validateConfig } from './validate.js';
import { isVsCodeConfig } from './vscode.js';
import { looksSecret } from './mask.js';

export interface ConfigDocument {
  file: string;
  text: string;
  /** The key the file keeps its servers under: `servers`, or Claude Desktop's `mcpServers`. */
  key: 'servers' | 'mcpServers';
  servers: Record<string, Record<string, unknown>>;
}

/**
 * Reads a JSON (JSONC) config for editing; a file that does not exist yet is an empty config.
 * `key` forces where the servers are (a host's own file); otherwise the file says.
 */
export function readDocument(file: string, forcedKey?: ConfigDocument['key']): ConfigDocument {
  if (!/\.json$/.test(file)) throw new McpdError('MCPD_USAGE', `mcpd edits JSON configs only; ${file} is not one (edit it by hand).`);
  // A new file holds the key its owner reads (a host's own file: mcpServers), and no other.
  const text = existsSync(file) ? readFileSync(file, 'utf8') : `{\n  "${forcedKey ?? 'servers'}": {}\n}\n`;
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  if (errors.length > 0 || !value || typeof value !== 'object') {
    throw new McpdError('MCPD_CONFIG_UNREADABLE', `${file} is not valid JSON (with comments); fix it first: mcpd config check ${file}`);
  }
  const key = forcedKey ?? (value['mcpServers'] !== undefined && value['servers'] === undefined ? 'mcpServers' : 'servers');
  const servers = (value[key] ?? {}) as Record<string, Record<string, unknown>>;
  return { file, text, key, servers };
}

function formatting(text: string): FormattingOptions {
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '  ';
  return {
    insertSpaces: !indent.startsWith('\t'),
    tabSize: indent.startsWith('\t') ? 1 : indent.length,
    eol: text.includes('\r\n') ? '\r\n' : '\n',
  };
}

/** The whitespace a line starts with, for the line holding `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/**
 * The text with one value set (undefined removes it), at `path` below the servers key. Only the
 * new or changed value is formatted (in the file's indentation); every other line stays as it was.
 */
export function edited(doc: ConfigDocument, path: (string | number)[], value: unknown): string {
  const full = [doc.key, ...path];
  const options = formatting(doc.text);
  const unit = options.insertSpaces ? ' '.repeat(options.tabSize ?? 2) : '\t';
  const eol = options.eol ?? '\n';
  const pretty = (v: unknown, indent: string) => JSON.stringify(v, null, unit).replace(/\n/g, `${eol}${indent}`);
  const tree = parseTree(doc.text);
  const existing = tree ? findNodeAtLocation(tree, full) : undefined;
  const parent = tree ? findNodeAtLocation(tree, full.slice(0, -1)) : undefined;
  const key = String(full.at(-1));
  if (value === undefined || !tree || (!existing && (!parent || parent.type !== 'object'))) {
    // Removing, or a parent to create: jsonc-parser's own edit.
    return applyEdits(doc.text, modify(doc.text, full, value, value === undefined ? {} : { formattingOptions: options }));
  }
  if (existing) {
    const indent = lineIndent(doc.text, existing.parent?.offset ?? existing.offset);
    return `${doc.text.slice(0, existing.offset)}${pretty(value, indent)}${doc.text.slice(existing.offset + existing.length)}`;
  }
  const object = parent!;
  const children = object.children ?? [];
  const last = children.at(-1);
  if (!last) {
    const indent = lineIndent(doc.text, object.offset);
    const inner = `${eol}${indent}${unit}${JSON.stringify(key)}: ${pretty(value, indent + unit)}${eol}${indent}`;
    return `${doc.text.slice(0, object.offset + 1)}${inner}${doc.text.slice(object.offset + object.length - 1)}`;
  }
  const oneLine = !doc.text.slice(object.offset, children[0]!.offset).includes('\n');
  const insertion = oneLine
    ? `, ${JSON.stringify(key)}: ${JSON.stringify(value)}`
    : `,${eol}${lineIndent(doc.text, children[0]!.offset)}${JSON.stringify(key)}: ${pretty(value, lineIndent(doc.text, children[0]!.offset))}`;
  const at = last.offset + last.length;
  return `${doc.text.slice(0, at)}${insertion}${doc.text.slice(at)}`;
}

/**
 * Checks the edited text as the daemon would load it (a variable the shell lacks is not held
 * against it: the daemon's environment may have it); problems about other servers that were
 * there before are not this edit's doing and do not block it.
 */
export function checkEdited(doc: ConfigDocument, text: string, server: string): void {
  const raw = parse(text, [], { allowTrailingComma: true }) as unknown;
  const ignored: ExpansionProblem[] = [];
  const baseDir = isVsCodeConfig(doc.file) ? dirname(dirname(doc.file)) : dirname(doc.file);
  const result = validateConfig(expandEnv(raw, { MCPD_CONFIG_DIR: baseDir, ...process.env }, ignored), baseDir, doc.file);
  if (result.ok) return;
  const mine = result.problems.filter(
    (p) => p.path === `${doc.key}.${server}` || p.path.startsWith(`${doc.key}.${server}.`) || !p.path.startsWith(`${doc.key}.`),
  );
  if (mine.length > 0) {
    throw new McpdError(
      'MCPD_CONFIG_INVALID',
      `Not changed: the entry would not be valid:\n${mine.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      { details: { file: doc.file, problems: mine } },
    );
  }
}

/** Whether a config's text holds a literal secret: an env value that looks like one, or a header value (not a `${VAR}`). */
export function holdsSecrets(text: string): boolean {
  const value = parse(text, [], { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  if (!value || typeof value !== 'object') return false;
  const literal = (v: unknown): v is string => typeof v === 'string' && v !== '' && !/^\$\{[^}]+\}$/.test(v.trim());
  const projects = Object.values((value['projects'] ?? {}) as Record<string, Record<string, unknown>>);
  const groups = [value['servers'], value['mcpServers'], ...projects.map((p) => p?.['mcpServers'])];
  for (const group of groups) {
    if (!group || typeof group !== 'object') continue;
    for (const entry of Object.values(group as Record<string, Record<string, unknown>>)) {
      if (!entry || typeof entry !== 'object') continue;
      const env = (entry['env'] ?? {}) as Record<string, unknown>;
      if (Object.entries(env).some(([k, v]) => literal(v) && looksSecret(k, v))) return true;
      const headers = (entry['headers'] ?? {}) as Record<string, unknown>;
      if (Object.values(headers).some(literal)) return true;
    }
  }
  return false;
}

/** Writes the file whole (a temp file renamed over it), keeping its mode; one that holds a secret only its owner may read (0600). */
export function writeDocument(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  let mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644;
  if (holdsSecrets(text)) mode &= 0o600;
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, file);
}
