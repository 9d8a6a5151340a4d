/**
 * The dashboard for daily use, in a real Chromium against a real daemon: tools grouped by server
 * with a filter, error boxes that open with their first line, env values masked only when they
 * look secret, a servers table that fits an 800 px window, and servers added, changed, disabled,
 * enabled and removed from the page — written to the config file with its comments kept.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_RESTART, FAST_TIMEOUTS, FIXTURE, ROOT, tempDir } from '../support/fixtures.js';
import { BROWSER_REQUIRED, CHROMIUM, launchBrowser } from '../support/browser.js';
import { mcpdWith, serverRow, shot as shotOf } from '../support/dashboard.js';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const SECRET = 'sk-test-0123456789abcdefghij';
const dir = tempDir('mcpd-ui-daily-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
const CONFIG = `{
  // The dashboard's daily-use test: this comment must survive every edit made from the page.
  "servers": {
    "fx": {
      "command": ${JSON.stringify(process.execPath)},
      "args": [${JSON.stringify(FIXTURE)}],
      "env": { "LOG_LEVEL": "debug", "DATA_DIR": "/tmp/fx-data", "API_KEY": "${SECRET}" },
      "timeouts": ${JSON.stringify(FAST_TIMEOUTS)},
      "restart": ${JSON.stringify(FAST_RESTART)}
    },
    "everything": { "command": ${JSON.stringify(process.execPath)}, "args": [${JSON.stringify(EVERYTHING)}, "stdio"] }
  }
}
`;
let env: Record<string, string>;
let browser: Browser;
let page: Page;
let base: string;

const mcpd = mcpdWith(() => env);
const shot = (name: string) => shotOf(page, name);
const row = (server: string) => serverRow(page, server);
const stateOf = (server: string) => row(server).locator('[data-state]').getAttribute('data-state');
const config = () => readFileSync(configFile, 'utf8');

/** Opens the page's add form and fills it for our fixture server, with one env line. */
async function fillAddForm(name: string, env: string) {
  await page.getByRole('button', { name: 'Add a server' }).click();
  const form = page.getByTestId('server-form');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Command', { exact: true }).fill(process.execPath);
  await form.getByLabel('Arguments', { exact: true }).fill(FIXTURE);
  await form.getByLabel('Environment', { exact: true }).fill(env);
  return form;
}
/** The file's servers (its one comment line taken out). */
const fileServers = () =>
  (JSON.parse(config().replace(/^\s*\/\/.*$/m, '')) as { servers: Record<string, Record<string, unknown>> }).servers;

describe.skipIf(!CHROMIUM && !BROWSER_REQUIRED)('the dashboard for daily use', () => {
  beforeAll(async () => {
    env = { MCPD_HOME: home, PATH: process.env['PATH'] ?? '' };
    writeFileSync(configFile, CONFIG);
    const started = await mcpd(['start', '--config', configFile]);
    expect(started.exitCode, started.stderr).toBe(0);
    const ui = await mcpd(['ui', '--no-browser']);
    expect(ui.exitCode, ui.stderr).toBe(0);
    base = new URL(ui.stdout.trim()).origin;
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1360, height: 820 } });
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(ui.stdout.trim());
    // (expect.poll belongs to tests: here the page's own wait.)
    for (const server of ['fx', 'everything']) await row(server).locator('[data-state=running]').waitFor({ timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await mcpd(['stop']);
    dir.cleanup();
  });

  it('groups the tools by server, filters them by server and text, and folds a group', async () => {
    await page.goto(`${base}/ui/#/tools`);
    const list = page.getByTestId('tool-list');
    await expect.poll(() => list.locator('[data-group] > .group-head b').allTextContents()).toEqual(['everything', 'fx']);
    // Each group names its server once, and its tools by their own names.
    const fx = list.locator('[data-group=fx]');
    expect(await fx.locator('li a').allTextContents()).toContain('echo');
    expect(await fx.locator('li a[title="fx__echo"]').count()).toBe(1);

    await page.getByLabel('Server').selectOption('fx');
    await expect.poll(() => list.locator('[data-group]').count()).toBe(1);
    expect(await page.getByTestId('tool-count').textContent()).toMatch(/^\d+ of \d+ tools, 1 server$/);
    await page.getByLabel('Server').selectOption('');
    await page.getByLabel('Search tools').fill('echo');
    await expect.poll(() => list.locator('li a').allTextContents()).toEqual(['echo', 'echo']);

    // Folding a group hides its tools; unfolding brings them back.
    await fx.getByRole('button').click();
    await expect.poll(() => fx.locator('li a').count()).toBe(0);
    expect(await fx.getByRole('button').getAttribute('aria-expanded')).toBe('false');
    await fx.getByRole('button').click();
    await expect.poll(() => fx.locator('li a').count()).toBe(1);

    // A server's "Its tools" link lands on its group alone.
    await page.goto(`${base}/ui/#/servers/everything`);
    await page.getByRole('link', { name: 'Its tools →' }).click();
    await expect.poll(() => list.locator('[data-group] > .group-head b').allTextContents()).toEqual(['everything']);
    await shot('tool-groups');
  });

  it('masks the env values that look secret and shows the others', async () => {
    await page.goto(`${base}/ui/#/servers/fx`);
    const detail = page.getByTestId('server-detail');
    await expect.poll(() => detail.textContent()).toContain('"LOG_LEVEL": "debug"');
    const text = (await detail.textContent())!;
    expect(text).toContain('"DATA_DIR": "/tmp/fx-data"');
    expect(text).toContain('"API_KEY": "••••••"');
    expect(text).not.toContain(SECRET);
  });

  it('fits the servers table in an 800 px window', async () => {
    await page.setViewportSize({ width: 800, height: 700 });
    try {
      await page.goto(`${base}/ui/#/servers`);
      await expect.poll(() => stateOf('fx')).toBe('running');
      // (In the page: this project's types are Node's, without the DOM.)
      const fits = await page.evaluate<{ page: number; table: number; window: number }>(`(() => {
        const table = document.querySelector('[data-testid=servers]');
        return { page: document.documentElement.scrollWidth, table: Math.ceil(table.getBoundingClientRect().right), window: window.innerWidth };
      })()`);
      expect(fits.page).toBeLessThanOrEqual(fits.window);
      expect(fits.table).toBeLessThanOrEqual(fits.window);
      // What one acts on stays: the state, the restarts, the buttons.
      expect(await row('fx').getByRole('button', { name: 'Restart' }).isVisible()).toBe(true);
      expect(await row('fx').locator('[data-col=restarts]').isVisible()).toBe(true);
      await shot('narrow');
    } finally {
      await page.setViewportSize({ width: 1360, height: 820 });
    }
  });

  it('adds a server from the page: written to the file with its comments, and running', async () => {
    await page.goto(`${base}/ui/#/servers`);
    const form = await fillAddForm('fx2', 'GREETING=hello');
    await shot('server-form');
    await form.getByRole('button', { name: 'Add' }).click();
    await expect.poll(() => stateOf('fx2'), { timeout: 15_000 }).toBe('running');
    expect(await page.getByTestId('notice').textContent()).toContain('Added server "fx2"');
    const text = config();
    expect(text).toContain('this comment must survive');
    expect(fileServers()['fx2']).toEqual({
      command: process.execPath,
      args: [FIXTURE],
      env: { GREETING: 'hello' },
    });
    expect(page.url()).toBe(`${base}/ui/#/servers/fx2`);
  });

  it('does not keep a server that does not start, and says why in a line, with the rest on demand', async () => {
    const before = config();
    const form = await fillAddForm('broken', 'FIXTURE_EXIT_AT_START=3');
    await form.getByRole('button', { name: 'Add' }).click();
    const error = form.getByRole('alert');
    await expect
      .poll(() => error.locator('.error-head').textContent(), { timeout: 30_000 })
      .toMatch(/Not added: server "broken" did not start/);
    // The first line is the headline; the whole message (the file left as it was) is behind Details.
    expect(await error.locator('.error-head').textContent()).not.toContain('is as it was');
    expect(await error.locator('.error-details .error-message').isVisible()).toBe(false);
    await error.getByText('Details').click();
    expect(await error.locator('.error-details .error-message').textContent()).toContain(`${configFile} is as it was.`);
    expect(config()).toBe(before);
    expect(await row('broken').count()).toBe(0);
    await form.getByRole('button', { name: 'Cancel' }).click();
  });

  it("changes a server's env from the page, keeping a secret it only saw masked", async () => {
    await page.goto(`${base}/ui/#/servers/fx`);
    await page.getByTestId('server-detail').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByTestId('server-form');
    const envField = form.getByLabel('Environment', { exact: true });
    await expect.poll(() => envField.inputValue()).toContain('API_KEY=••••••');
    await envField.fill(`${await envField.inputValue()}\nGREETING=changed`);
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('notice').textContent(), { timeout: 15_000 }).toContain('Changed server "fx"');
    await expect.poll(() => stateOf('fx'), { timeout: 15_000 }).toBe('running');
    const entry = fileServers()['fx']!;
    expect(entry['env']).toEqual({ LOG_LEVEL: 'debug', DATA_DIR: '/tmp/fx-data', API_KEY: SECRET, GREETING: 'changed' });
    // What the form does not show stays as it was.
    expect(entry['timeouts']).toEqual(FAST_TIMEOUTS);
    expect(config()).toContain('this comment must survive');
  });

  it('disables, enables and removes a server from the page', async () => {
    await page.goto(`${base}/ui/#/servers/fx2`);
    const detail = page.getByTestId('server-detail');
    await detail.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => stateOf('fx2'), { timeout: 15_000 }).toBe('disabled');
    expect(config()).toMatch(/"fx2": \{[\s\S]*"disabled": true/);
    await detail.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => stateOf('fx2'), { timeout: 15_000 }).toBe('running');
    expect(config()).not.toContain('"disabled"');
    await detail.getByRole('button', { name: 'Remove…' }).click();
    await detail.getByRole('button', { name: 'Remove it' }).click();
    await expect.poll(() => row('fx2').count(), { timeout: 15_000 }).toBe(0);
    expect(config()).not.toContain('"fx2"');
    expect(config()).toContain('this comment must survive');
    // The CLI sees the same file.
    const listed = await mcpd(['server', 'list', '--config', configFile]);
    expect(listed.stdout).toMatch(/fx\s+stdio\s+running/);
    expect(listed.stdout).not.toContain('fx2');
  });
});
