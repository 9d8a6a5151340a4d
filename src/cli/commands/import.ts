/**
 * `mcpd import [FILE | --from HOST]`: copies the servers another MCP host knows (Claude Desktop,
 * Claude Code, Cursor, VS Code, Windsurf: their own config files) or a file into mcpd's config,
 * keeping its comments. Shows what it adds; skips names mcpd has already, the same server under
 * another name, and mcpd's own bridge entries; `--dry-run` writes nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'jsonc-parser';
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

function serversOf(file: string): Record<string, Entry> {
  if (!existsSync(file)) throw new McpdError('MCPD_CONFIG_NOT_FOUND', `${file} does not exist: nothing to import.`);
  const value = parse(readFileSync(file, 'utf8'), [], { allowTrailingComma: true }) as Record<string, unknown> | undefined;
  const servers = (value?.['mcpServers'] ?? value?.['servers']) as Record<string, Entry> | undefined;
  if (!servers || typeof servers !== 'object') throw new McpdError('MCPD_CONFIG_INVALID', `${file} has no "mcpServers" or "servers".`);
  return servers;
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
  const incoming = serversOf(source);
  const { locateConfig, userConfigFile } = await import('../../config/locate.js');
  const { checkEdited, edited, readDocument, writeDocument } = await import('../../config/edit.js');
  const target = locateConfig({ file: ctx.args.config })?.file ?? userConfigFile();
  const doc = readDocument(target);
  const known = new Set(Object.values(doc.servers).map(identity));
  let text = doc.text;
  const added: string[] = [];
  const skipped: string[] = [];
  for (const [name, raw] of Object.entries(incoming)) {
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
  }
  ctx.out(`From ${source} into ${target}:`);
  ctx.out(`  ${ctx.args.dryRun ? 'would add' : 'added'}: ${added.join(', ') || 'nothing'}`);
  for (const line of skipped) ctx.out(`  skipped: ${line}`);
  if (ctx.args.dryRun || added.length === 0) return 0;
  writeDocument(target, text);
  await startImported(ctx, target, added);
  return 0;
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
