/**
 * `mcpd import [FILE | --from HOST]`: copies the servers another MCP host knows (Claude Desktop,
 * Claude Code, Cursor, VS Code, Windsurf: their own config files) or a file into mcpd's config,
 * keeping its comments. Shows what it adds; skips names mcpd has already, the same server under
 * another name, and mcpd's own bridge entries; `--dry-run` writes nothing.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { applyEdits, modify, parse } from 'jsonc-parser';
import { McpdError } from '../../errors.js';
import { connectDaemon, type CliContext } from '../context.js';
import { serverLine } from '../format.js';
import { HOSTS, hostConfig, isBridge, parseHost } from '../hosts.js';

type Entry = Record<string, unknown>;

/** What makes two entries the same server, whatever they are called. */
function identity(entry: Entry): string {
  return typeof entry['url'] === 'string'
    ? `url:${entry['url']}`
    : `cmd:${JSON.stringify([entry['command'], ...((entry['args'] as unknown[]) ?? [])])}`;
}

/** One server of the host's file, and where in that file it is (for --move). */
interface Found {
  name: string;
  raw: Entry;
  at: (string | number)[];
}

/**
 * The servers of a host's file: its top-level `mcpServers` (or `servers`), and Claude Code's
 * per-project ones (`projects.PATH.mcpServers`), a name taken twice told apart by its folder.
 */
function serversOf(file: string): Found[] {
  if (!existsSync(file)) throw new McpdError('MCPD_CONFIG_NOT_FOUND', `${file} does not exist: nothing to import.`);
  const value = parse(readFileSync(file, 'utf8'), [], { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  const key = value?.['mcpServers'] !== undefined ? 'mcpServers' : 'servers';
  const found: Found[] = [];
  const top = value?.[key];
  if (top && typeof top === 'object')
    for (const [name, raw] of Object.entries(top as Record<string, Entry>)) found.push({ name, raw, at: [key, name] });
  const projects = value?.['projects'];
  if (projects && typeof projects === 'object') {
    for (const [folder, project] of Object.entries(projects as Record<string, Record<string, unknown>>)) {
      const servers = project?.['mcpServers'];
      if (!servers || typeof servers !== 'object') continue;
      for (const [name, raw] of Object.entries(servers as Record<string, Entry>)) {
        const taken = found.some((f) => f.name === name && identity(f.raw) !== identity(raw));
        const tag = basename(folder).replace(/[^A-Za-z0-9_-]+/g, '-');
        found.push({ name: taken ? `${name}-${tag}` : name, raw, at: ['projects', folder, 'mcpServers', name] });
      }
    }
  }
  if (top === undefined && found.length === 0) throw new McpdError('MCPD_CONFIG_INVALID', `${file} has no "mcpServers" or "servers".`);
  return found;
}

function backup(file: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const copy = `${file}.mcpd-backup-${stamp}`;
  copyFileSync(file, copy);
  return copy;
}

/** --move: the servers now in mcpd's config, out of the host's file (a backup first), so the host does not list them twice. */
function moveOut(ctx: CliContext, source: string, moved: Found[]): void {
  if (moved.length === 0) return;
  let text = readFileSync(source, 'utf8');
  for (const { at } of moved) text = applyEdits(text, modify(text, at, undefined, {}));
  const saved = backup(source);
  const mode = statSync(source).mode & 0o777;
  const temp = `${source}.${process.pid}.tmp`;
  writeFileSync(temp, text, { mode });
  renameSync(temp, source);
  ctx.out(`  moved: ${moved.map((m) => m.name).join(', ')} out of ${source} (backup: ${saved})`);
}

export async function importCommand(ctx: CliContext): Promise<number> {
  const given = ctx.args.positionals[1];
  if ((given === undefined) === (ctx.args.from === undefined))
    throw new McpdError('MCPD_USAGE', `Usage: mcpd import FILE, or mcpd import --from ${HOSTS.join('|')} [--dry-run]`);
  let source: string;
  if (ctx.args.from !== undefined) {
    const host = parseHost(ctx.args.from);
    if (!host) throw new McpdError('MCPD_USAGE', `--from takes ${HOSTS.join(', ')}; not "${ctx.args.from}".`);
    source = hostConfig(host).file;
  } else source = resolve(given!);
  if (ctx.args.move && ctx.args.dryRun) ctx.out('(--dry-run: nothing is moved either)');
  const incoming = serversOf(source);
  const { locateConfig, userConfigFile } = await import('../../config/locate.js');
  const { checkEdited, edited, readDocument, writeDocument } = await import('../../config/edit.js');
  const target = locateConfig({ file: ctx.args.config })?.file ?? userConfigFile();
  const doc = readDocument(target);
  const known = new Set(Object.values(doc.servers).map(identity));
  let text = doc.text;
  const added: string[] = [];
  const skipped: string[] = [];
  /** What --move takes out of the host's file: what mcpd's config now has, the same server. */
  const movable: Found[] = [];
  for (const found of incoming) {
    const { name, raw } = found;
    if (!raw || typeof raw !== 'object') continue;
    if (isBridge(raw)) {
      skipped.push(`${name} (mcpd's own bridge)`);
      continue;
    }
    const written = JSON.stringify(raw);
    if (/\$\{(input|workspaceFolder)[:}]/.test(written)) {
      skipped.push(
        `${name} (it uses VS Code's \${input:…} or \${workspaceFolder}, which only VS Code can fill in; add it by hand: mcpd server add)`,
      );
      continue;
    }
    if (Object.hasOwn(doc.servers, name)) {
      skipped.push(`${name} (mcpd has a server of that name)`);
      continue;
    }
    if (known.has(identity(raw))) {
      skipped.push(`${name} (the same server is in mcpd's config under another name)`);
      movable.push(found);
      continue;
    }
    // VS Code's ${env:VAR} and ${userHome} in mcpd's terms.
    const entry = JSON.parse(
      written.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, '${$1}').replace(/\$\{userHome\}/g, '${HOME}'),
    ) as Entry;
    const next = edited({ ...doc, text }, [name], entry);
    try {
      checkEdited(doc, next, name);
    } catch (error) {
      skipped.push(`${name} (${(error as Error).message.split('\n').slice(1).join('; ').trim()})`);
      continue;
    }
    text = next;
    known.add(identity(entry));
    added.push(name);
    movable.push(found);
  }
  ctx.out(`From ${source} into ${target}:`);
  ctx.out(`  ${ctx.args.dryRun ? 'would add' : 'added'}: ${added.join(', ') || 'nothing'}`);
  for (const line of skipped) ctx.out(`  skipped: ${line}`);
  if (ctx.args.dryRun) return 0;
  if (added.length > 0) writeDocument(target, text);
  if (ctx.args.move) moveOut(ctx, source, movable);
  if (added.length > 0) await startImported(ctx, target, added);
  const host = ctx.args.from === undefined ? undefined : parseHost(ctx.args.from);
  if (ctx.args.move && host !== undefined && host !== 'windsurf' && !Object.values(hostEntries(source)).some(isBridge))
    ctx.out(`Give ${hostConfig(host).label} them back through mcpd: mcpd connect ${host}`);
  else if (!ctx.args.move && host !== undefined && added.length > 0)
    ctx.out(
      `Connected to mcpd too, ${hostConfig(host).label} lists them twice: mcpd import --from ${host} --move takes them out of its file.`,
    );
  return 0;
}

/** The top-level entries of a host's file now. */
function hostEntries(file: string): Entry[] {
  return serversOf(file)
    .filter((f) => f.at.length === 2)
    .map((f) => f.raw);
}

/** The daemon that runs on that file starts them now (it may have, watching the file); say where they stand. */
async function startImported(ctx: CliContext, file: string, names: string[]): Promise<void> {
  let client;
  try {
    client = await connectDaemon(ctx, 2_000);
  } catch {
    ctx.out('mcpd is not running; mcpd start starts them.');
    return;
  }
  try {
    const status = await client.request('status', {});
    if (status.configFile !== file) {
      ctx.out(`The running daemon uses ${status.configFile ?? 'no config file'}, not ${file}: restart it on this one to use them.`);
      return;
    }
    await client.request('config.reload', {}, { timeoutMs: 120_000 });
    const servers = (await client.request('status', {})).servers.filter((s) => names.includes(s.name));
    for (const server of servers) ctx.out(`  ${serverLine(server)}`);
  } finally {
    client.close();
  }
}
