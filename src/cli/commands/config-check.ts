import { McpdError } from '../../errors.js';
import type { CliContext } from '../context.js';

export async function configCheckCommand(ctx: CliContext): Promise<number> {
  const [, sub, file, extra] = ctx.args.positionals;
  if (sub !== 'check' || extra !== undefined) throw new McpdError('MCPD_USAGE', 'Usage: mcpd config check [FILE]');
  const { checkConfig } = await import('../../config/load.js');
  const checked = await checkConfig({ file: file ?? ctx.args.config });
  if (ctx.args.json) {
    ctx.out(
      JSON.stringify(
        {
          file: checked.file,
          ok: checked.problems.length === 0,
          problems: checked.problems,
          warnings: checked.warnings,
          servers: checked.config ? Object.keys(checked.config.servers) : [],
        },
        null,
        2,
      ),
    );
    return checked.problems.length === 0 ? 0 : 1;
  }
  if (checked.problems.length > 0) {
    ctx.err(`${checked.file}: ${checked.problems.length} problem${checked.problems.length === 1 ? '' : 's'}`);
    for (const p of checked.problems) ctx.err(`  ${p.path}: ${p.message}`);
    for (const w of checked.warnings) ctx.err(`  warning: ${w}`);
    return 1;
  }
  const servers = Object.values(checked.config!.servers);
  const enabled = servers.filter((s) => !s.disabled).length;
  ctx.out(
    `${checked.file}: OK — ${servers.length} server${servers.length === 1 ? '' : 's'} (${enabled} enabled): ${servers.map((s) => s.name).join(', ') || 'none'}`,
  );
  for (const w of checked.warnings) ctx.out(`  warning: ${w}`);
  return 0;
}
