/**
 * `mcpd service install|uninstall|status`: the daemon as a login service (systemd user unit on
 * Linux, launchd agent on macOS), so it runs whenever the person is logged in. `install --no-start`
 * writes the files only; `--dry-run` prints them.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { McpdError, errorMessage } from '../../errors.js';
import { cliEntry, type CliContext } from '../context.js';
import { LAUNCHD_LABEL, launchdPlist, serviceFiles, systemdUnit, type ServiceSpec } from '../service.js';

const ENV_TEMPLATE = `# Environment of the mcpd service (mode 0600: only you can read it). KEY=VALUE lines.
# ANTHROPIC_API_KEY=sk-ant-...
`;

function run(command: string, args: string[]): { ok: true; out: string } | { ok: false; why: string } {
  try {
    return { ok: true, out: execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }) };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return { ok: false, why: stderr || errorMessage(error) };
  }
}

export async function serviceCommand(ctx: CliContext): Promise<number> {
  const action = ctx.args.positionals[1];
  if (action !== 'install' && action !== 'uninstall' && action !== 'status')
    throw new McpdError('MCPD_USAGE', 'Usage: mcpd service install [--no-start] [--dry-run] | uninstall | status');
  const platform = process.platform;
  if (platform !== 'linux' && platform !== 'darwin')
    throw new McpdError(
      'MCPD_USAGE',
      `mcpd service knows systemd (Linux) and launchd (macOS); on ${platform}, start mcpd at login another way (mcpd start).`,
    );
  const files = serviceFiles();
  const target = platform === 'linux' ? files.unit : files.plist;
  if (action === 'status') return status(ctx, platform, target);
  if (action === 'uninstall') return uninstall(ctx, platform, target);

  const { locateConfig } = await import('../../config/locate.js');
  const located = locateConfig({ file: ctx.args.config });
  const spec: ServiceSpec = {
    node: process.execPath,
    main: cliEntry(),
    home: ctx.paths.home,
    // The user's config is found by the daemon itself; a project's is named.
    config: located && located.source !== 'user' ? located.file : undefined,
    envFile: files.envFile,
    logFile: ctx.paths.daemonLog,
  };
  const content = platform === 'linux' ? systemdUnit(spec) : launchdPlist(spec);
  if (ctx.args.dryRun) {
    ctx.out(`Would write ${target}:\n${content}`);
    return 0;
  }
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content, { mode: 0o644 });
  if (!existsSync(files.envFile)) {
    mkdirSync(dirname(files.envFile), { recursive: true, mode: 0o700 });
    // The key this shell has goes into the 0600 file, never into the unit.
    const key = process.env['ANTHROPIC_API_KEY'];
    writeFileSync(files.envFile, `${ENV_TEMPLATE}${key ? `ANTHROPIC_API_KEY=${key}\n` : ''}`, { mode: 0o600 });
    ctx.out(
      `Wrote ${files.envFile} (0600)${key ? ', with the ANTHROPIC_API_KEY of this shell' : '; put ANTHROPIC_API_KEY there for chat'}.`,
    );
  }
  chmodSync(files.envFile, 0o600);
  ctx.out(`Wrote ${target}.`);
  const enable =
    platform === 'linux'
      ? ['systemctl --user daemon-reload', 'systemctl --user enable --now mcpd.service']
      : [`launchctl bootstrap gui/${process.getuid?.() ?? 501} ${target}`];
  if (ctx.args.noStart) {
    ctx.out(`To start it now and at every login: ${enable.join(' && ')}`);
    return 0;
  }
  // A daemon started by hand would hold the home: the service takes over.
  const stop = run(process.execPath, [spec.main, 'stop', '--home', spec.home]);
  if (stop.ok && /stopped/.test(stop.out)) ctx.out('Stopped the daemon that ran outside the service.');
  for (const line of enable) {
    const [command, ...args] = line.split(' ');
    const result = run(command!, args);
    if (!result.ok) {
      ctx.err(`Could not run "${line}": ${result.why}\nThe service file is written; enable it by hand: ${enable.join(' && ')}`);
      return 1;
    }
  }
  ctx.out(
    `The mcpd service runs now and at every login (${platform === 'linux' ? 'journalctl --user -u mcpd for its log' : `log: ${spec.logFile}`}).`,
  );
  return 0;
}

function status(ctx: CliContext, platform: 'linux' | 'darwin', target: string): number {
  if (!existsSync(target)) {
    ctx.out(`The mcpd service is not installed (${target} does not exist). Install it with: mcpd service install`);
    return 1;
  }
  const result =
    platform === 'linux'
      ? run('systemctl', ['--user', 'status', '--no-pager', 'mcpd.service'])
      : run('launchctl', ['print', `gui/${process.getuid?.() ?? 501}/${LAUNCHD_LABEL}`]);
  ctx.out(`Installed: ${target}`);
  ctx.out(result.ok ? result.out.trimEnd() : `(the service manager says: ${result.why})`);
  return 0;
}

function uninstall(ctx: CliContext, platform: 'linux' | 'darwin', target: string): number {
  if (!existsSync(target)) {
    ctx.out(`The mcpd service is not installed (${target} does not exist); nothing to do.`);
    return 0;
  }
  if (platform === 'linux') run('systemctl', ['--user', 'disable', '--now', 'mcpd.service']);
  else run('launchctl', ['bootout', `gui/${process.getuid?.() ?? 501}/${LAUNCHD_LABEL}`]);
  rmSync(target, { force: true });
  if (platform === 'linux') run('systemctl', ['--user', 'daemon-reload']);
  ctx.out(
    `Removed ${target}; the service is stopped and will not start at login. (Your environment file stays: ${serviceFiles().envFile}.)`,
  );
  return 0;
}
