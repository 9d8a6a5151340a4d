/**
 * How fast the dashboard loads from the daemon: a real daemon on the bundled config, the page in
 * Debian's Chromium (playwright-core), reloaded ROUNDS times. Reports, per reload, the browser's
 * own navigation timing (DOMContentLoaded, load) and the time until the servers table shows the
 * daemon's answer (the page fetched its modules, connected, said hello and got the status).
 *
 * Part of `npm run bench` (skipped without a Chromium).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { CHROMIUM, launchBrowser } from '../test/support/browser.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/bundle/mcpd.js');

function stats(values: number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
  return `${at(0.5).toFixed(0)} (min ${sorted[0]!.toFixed(0)}, p90 ${at(0.9).toFixed(0)})`;
}

export async function uiLoadBench({ quick }: { quick: boolean }): Promise<string[]> {
  const ROUNDS = quick ? 8 : 30;
  if (!CHROMIUM) return ['Dashboard load: not measured (no Chromium here: apt-get install chromium).'];
  const home = mkdtempSync(join(tmpdir(), 'mcpd-bench-ui-'));
  const env = { ...process.env, MCPD_HOME: home };
  const mcpd = (args: string[]) => execa(process.execPath, [CLI, ...args], { env, cwd: ROOT });
  await mcpd(['start', '--config', join(ROOT, 'mcp.config.json')]);
  const browser = await launchBrowser();
  try {
    const login = (await mcpd(['ui', '--no-browser'])).stdout.trim();
    const page = await (await browser.newContext()).newPage();
    await page.goto(login);
    await page.waitForSelector('[data-testid=servers] tbody tr');
    const dom: number[] = [];
    const load: number[] = [];
    const shown: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      await page.reload();
      await page.waitForSelector('[data-testid=servers] tbody tr');
      const t = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation' as never)[0] as unknown as {
          domContentLoadedEventEnd: number;
          loadEventEnd: number;
        };
        return { dom: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, shown: performance.now() };
      });
      dom.push(t.dom);
      load.push(t.load);
      shown.push(t.shown);
    }
    return [
      `The dashboard (\`mcpd ui\`) from the daemon, ${ROUNDS} reloads in Chromium on the bundled config (target: under 200 ms):`,
      '',
      '| measure | ms |',
      '|---|---|',
      `| DOMContentLoaded | **${stats(dom)}** |`,
      `| load (every module in) | ${stats(load)} |`,
      `| the servers table shows the daemon's answer (live connection, hello, status) | ${stats(shown)} |`,
    ];
  } finally {
    await browser.close();
    await mcpd(['stop']).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
