/**
 * `mcpd service`: the systemd user unit as written (checked by systemd-analyze verify when the
 * machine has it), the launchd plist (checked by Python's plistlib), the secrets kept in a 0600
 * environment file and never in the unit or plist, and uninstall. In a temp HOME.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { launchdPlist, systemdUnit } from '../../src/cli/service.js';
import { CLI, tempDir } from '../support/fixtures.js';

const dir = tempDir('mcpd-service-');
const home = join(dir.path, 'user');
const env = {
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  MCPD_HOME: join(dir.path, 'mcpd-home'),
  ANTHROPIC_API_KEY: 'sk-ant-secret-of-the-shell',
};
const hasSystemdAnalyze = existsSync('/usr/bin/systemd-analyze') || existsSync('/bin/systemd-analyze');
const hasPython = existsSync('/usr/bin/python3') || existsSync('/usr/local/bin/python3');

afterAll(() => dir.cleanup());

const spec = {
  node: '/usr/bin/node',
  main: '/opt/my tools/mcpd/dist/cli/main.js',
  home: '/home/a/.mcpd',
  config: '/home/a/work/mcp.config.json',
  envFile: '/home/a/.config/mcpd/mcpd.env',
  logFile: '/home/a/.mcpd/logs/daemon.log',
};

describe.runIf(process.platform === 'linux')('mcpd service on Linux', () => {
  it('install --no-start writes a unit that verifies, and the key only into the 0600 env file; uninstall removes it', async () => {
    const installed = await execa(process.execPath, [CLI, 'service', 'install', '--no-start'], { env, cwd: dir.path, reject: false });
    expect(installed.exitCode, installed.stderr).toBe(0);
    const unitFile = join(home, '.config', 'systemd', 'user', 'mcpd.service');
    const envFile = join(home, '.config', 'mcpd', 'mcpd.env');
    const unit = readFileSync(unitFile, 'utf8');
    expect(unit).toContain(`ExecStart=${process.execPath} ${CLI} serve --home ${env.MCPD_HOME}`);
    expect(unit).toContain(`EnvironmentFile=-${envFile}`);
    expect(unit).not.toContain('sk-ant');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(envFile, 'utf8')).toContain('ANTHROPIC_API_KEY=sk-ant-secret-of-the-shell');
    expect(installed.stdout).toContain('systemctl --user enable --now mcpd.service');
    if (hasSystemdAnalyze) {
      const verify = await execa('systemd-analyze', ['verify', unitFile], { reject: false });
      expect([verify.exitCode, verify.stderr], verify.stderr).toEqual([0, '']);
    }
    const removed = await execa(process.execPath, [CLI, 'service', 'uninstall'], { env, reject: false });
    expect(removed.stdout).toContain(`Removed ${unitFile}`);
    expect(existsSync(unitFile)).toBe(false);
  });

  it('a unit for paths with spaces still verifies', async () => {
    if (!hasSystemdAnalyze) return;
    const file = join(dir.path, 'spaced.service');
    writeFileSync(file, systemdUnit(spec));
    expect(readFileSync(file, 'utf8')).toContain('"/opt/my tools/mcpd/dist/cli/main.js"');
    const verify = await execa('systemd-analyze', ['verify', file], { reject: false });
    expect([verify.exitCode, verify.stderr]).toEqual([0, '']);
  });
});

describe.runIf(hasPython)('the launchd agent', () => {
  it("is a plist Python's plistlib reads, running the shell that reads the env file", async () => {
    const file = join(dir.path, 'dev.mcpd.daemon.plist');
    writeFileSync(file, launchdPlist(spec));
    const read = await execa(
      'python3',
      ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file],
      { reject: false },
    );
    expect(read.exitCode, read.stderr).toBe(0);
    const plist = JSON.parse(read.stdout) as {
      Label: string;
      ProgramArguments: string[];
      RunAtLoad: boolean;
      KeepAlive: { SuccessfulExit: boolean };
    };
    expect(plist).toMatchObject({ Label: 'dev.mcpd.daemon', RunAtLoad: true, KeepAlive: { SuccessfulExit: false } });
    expect(plist.ProgramArguments.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(plist.ProgramArguments[2]).toContain(". '/home/a/.config/mcpd/mcpd.env'");
    expect(plist.ProgramArguments[2]).toContain("exec '/usr/bin/node' '/opt/my tools/mcpd/dist/cli/main.js' 'serve'");
  });
});
