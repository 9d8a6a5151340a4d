/**
 * `mcpd connect HOST` / `mcpd disconnect HOST`: writes (or takes out) the `mcpd bridge` entry in
 * an MCP host's own config file, so that host shares the daemon's servers. A backup is made
 * before any change; running it twice changes nothing; `--dry-run` prints the change only.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { McpdError } from '../../errors.js';
import { resolveHome } from '../../home/paths.js';
import { cliEntry, type CliContext } from '../context.js';
import { hostConfig, isBridge, parseHost, type Host } from '../hosts.js';
import { closestWord } from '../../util/suggest.js';

const CONNECTABLE: readonly Host[] = ['claude-desktop', 'claude-code', 'cursor', 'vscode'];

function backup(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const copy = `${file}.mcpd-backup-${stamp}`;
  copyFileSync(file, copy);
  return copy;
}

/** --server and --profile name a server or a profile of the config the bridge will run on. */
async function assertNamed(ctx: CliContext, file: string | undefined): Promise<void> {
  const { loadConfig } = await import('../../config/load.js');
  const config = await loadConfig({ file });
  const [kind, name, known] =
    ctx.args.server !== undefined
      ? (['server', ctx.args.server, Object.keys(config.servers)] as const)
      : (['profile', ctx.args.profile!, Object.keys(config.gateway.profiles)] as const);
  if (known.includes(name)) return;
  const guess = closestWord(name, known);
  throw new McpdError(
    kind === 'server' ? 'MCPD_SERVER_UNKNOWN' : 'MCPD_PROFILE_UNKNOWN',
    `No ${kind} named "${name}" in ${config.file ?? 'the config'}${guess ? `; did you mean "${guess}"?` : ''} (${kind}s: ${known.join(', ') || 'none'}). Nothing was written.`,
  );
}

export async function connectCommand(ctx: CliContext): Promise<number> {
  const [command, name] = ctx.args.positionals;
  const host = parseHost(name, CONNECTABLE);
  if (!host)
    throw new McpdError(
      'MCPD_USAGE',
      `${name === undefined ? 'Which host?' : `Unknown host "${name}".`} Usage: mcpd ${command} ${CONNECTABLE.join('|')}${command === 'connect' ? ' [--profile P | --server S]' : ''} [--dry-run]`,
    );
  if (ctx.args.profile && ctx.args.server) throw new McpdError('MCPD_USAGE', 'Give --profile or --server, not both.');
  const target = hostConfig(host);
  const { readDocument, edited, writeDocument } = await import('../../config/edit.js');
  const doc = readDocument(target.file, target.key);
  let text = doc.text;
  const changes: string[] = [];
  if (command === 'disconnect') {
    for (const [entryName, entry] of Object.entries(doc.servers)) {
      if (!entry || typeof entry !== 'object' || !isBridge(entry)) continue;
      text = edited({ ...doc, text }, [entryName], undefined);
      changes.push(`removed "${entryName}"`);
    }
    if (changes.length === 0) {
      ctx.out(`${target.label} (${target.file}) has no mcpd entry; nothing to do.`);
      return 0;
    }
  } else {
    const { locateConfig } = await import('../../config/locate.js');
    const located = locateConfig({ file: ctx.args.config });
    // An entry the host would then fail on is not written: the name must be the config's.
    if (ctx.args.server !== undefined || ctx.args.profile !== undefined) await assertNamed(ctx, located?.file);
    const main = cliEntry();
    // Absolute paths: hosts start servers with a PATH of their own (Claude Desktop's is minimal).
    const args = [
      main,
      'bridge',
      ...(ctx.args.profile ? ['--profile', ctx.args.profile] : []),
      ...(ctx.args.server ? ['--server', ctx.args.server] : []),
      // A home other than the default (--home, MCPD_HOME) is named: hosts do not have this shell's environment.
      ...(ctx.paths.home !== resolveHome(undefined, {}) ? ['--home', ctx.paths.home] : []),
      // A project's config travels with the entry: the bridge starts the daemon on it if none runs.
      ...(located && located.source !== 'user' ? ['--config', located.file] : []),
    ];
    const entry = { ...(target.typed ? { type: 'stdio' } : {}), command: process.execPath, args };
    const entryName = ctx.args.profile ? `mcpd-${ctx.args.profile}` : ctx.args.server ? `mcpd-${ctx.args.server}` : 'mcpd';
    if (JSON.stringify(doc.servers[entryName]) === JSON.stringify(entry)) {
      ctx.out(`${target.label} is connected already ("${entryName}" in ${target.file}); nothing to do.`);
      return 0;
    }
    text = edited(doc, [entryName], entry);
    changes.push(`${doc.servers[entryName] ? 'replaced' : 'added'} "${entryName}": ${JSON.stringify(entry)}`);
  }
  if (ctx.args.dryRun) {
    ctx.out(`Would change ${target.file}: ${changes.join('; ')}\n--- the file would read:\n${text}`);
    return 0;
  }
  const saved = backup(target.file);
  writeDocument(target.file, text);
  ctx.out(
    `${command === 'connect' ? 'Connected' : 'Disconnected'} ${target.label}: ${changes.join('; ')} in ${target.file}${saved ? ` (backup: ${saved})` : ''}.`,
  );
  ctx.out(`Restart ${target.label} (or reload its MCP servers) to pick it up.`);
  return 0;
}
