/**
 * MCP Apps in the dashboard, in a real Chromium, with the Apps servers from npm as the
 * upstreams (server-basic-vanillajs, server-system-monitor) and a fixture whose Apps misbehave:
 * an App shown in the Tools view and in the Chat view, at its own link printed by `mcpd call`,
 * calling its own server through mcpd, and kept from the dashboard and from other servers.
 * With MCPD_SCREENSHOTS=DIR it writes the screenshots the README shows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appsServer, BAD_APPS, tempDir } from '../support/fixtures.js';
import { BROWSER_REQUIRED, CHROMIUM, launchBrowser } from '../support/browser.js';
import { mcpdWith, shot as shotOf } from '../support/dashboard.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const api = new MessagesApiStandIn();
const dir = tempDir('mcpd-ui-apps-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
let env: Record<string, string>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let base: string;

const mcpd = mcpdWith(() => env);
/** Each test takes a few browser round trips and server starts: room for a loaded machine (CI runs two suites at once). */
const STEP_TIMEOUT_MS = 90_000;

/** The App's own document: the inner frame of the sandbox (another origin than the page's). */
async function appFrame(owner: Page, index = 0): Promise<Frame> {
  let found: Frame | undefined;
  await expect
    .poll(
      () => {
        const frames = owner.frames().filter((f) => f.parentFrame()?.url().includes('/sandbox.html'));
        found = frames[index];
        return found !== undefined;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return found!;
}

describe.skipIf(!CHROMIUM && !BROWSER_REQUIRED)('MCP Apps in the dashboard, in Chromium', () => {
  beforeAll(async () => {
    await api.start();
    env = { MCPD_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-ui', ANTHROPIC_BASE_URL: api.url, PATH: process.env['PATH'] ?? '' };
    writeFileSync(
      configFile,
      JSON.stringify({
        servers: {
          clock: appsServer('server-basic-vanillajs'),
          monitor: appsServer('server-system-monitor'),
          bad: BAD_APPS,
        },
      }),
    );
    const started = await mcpd(['start', '--config', configFile]);
    expect(started.exitCode, started.stderr).toBe(0);
    const ui = await mcpd(['ui', '--no-browser']);
    expect(ui.exitCode, ui.stderr).toBe(0);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(ui.stdout.trim());
    base = new URL(page.url()).origin;
    await page.locator('[data-testid=connection][data-state=open]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await mcpd(['stop']);
    await api.stop();
    dir.cleanup();
  }, STEP_TIMEOUT_MS);

  it(
    'the Tools view shows the vanillajs App with the result; its button calls its tool through mcpd',
    async () => {
      await page.goto(`${base}/ui/#/tools/clock__get-time`);
      await page.getByRole('button', { name: 'Call' }).click();
      await expect.poll(() => page.getByTestId('app-view').getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
      const app = await appFrame(page);
      // The App shows the time from the tool's result (the result's own text, in the page).
      const result = await page.getByTestId('tool-result').textContent();
      const time = /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(result ?? '')![0];
      const shown = app.locator('#server-time');
      await expect.poll(() => shown.textContent(), { timeout: 10_000 }).toBe(time);
      // Its button calls get-time again, through mcpd: the time changes.
      await app.getByRole('button', { name: 'Get Server Time' }).click();
      await expect.poll(() => shown.textContent(), { timeout: 10_000 }).not.toBe(time);
      expect(await shown.textContent()).toMatch(/^\d{4}-\d\d-\d\dT/);
      // Its log line goes to the server's log (mcpd logs clock).
      await app.locator('#log-text').fill('a line from the App');
      await app.getByRole('button', { name: 'Send Log' }).click();
      await expect.poll(async () => (await mcpd(['logs', 'clock'])).stdout, { timeout: 10_000 }).toContain('[app] a line from the App');
      // A link opens only after the person says yes: declined here, nothing opens.
      const asked: string[] = [];
      page.once('dialog', (dialog) => {
        asked.push(dialog.message());
        void dialog.dismiss();
      });
      await app.locator('#link-url').fill('https://example.com/docs');
      await app.getByRole('button', { name: 'Open Link' }).click();
      await expect.poll(() => asked.length).toBe(1);
      expect(asked[0]).toContain('https://example.com/docs');
      expect(context.pages()).toHaveLength(1);
      await shotOf(page, 'app-tools');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'the system-monitor App polls its app-only tool, which no model is offered',
    async () => {
      await page.goto(`${base}/ui/#/tools/monitor__get-system-info`);
      await page.getByRole('button', { name: 'Call' }).click();
      await expect.poll(() => page.getByTestId('app-view').getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
      const app = await appFrame(page);
      // The memory figure comes only from poll-system-stats, which the App calls through mcpd.
      await expect.poll(() => app.locator('#memory-percent').textContent(), { timeout: 20_000 }).toMatch(/^\d+(\.\d+)?%$/);
      expect(await app.locator('#info-hostname').textContent()).not.toBe('');
      await page.getByTestId('app-view').scrollIntoViewIfNeeded();
      await shotOf(page, 'app-monitor');
      const direct = await mcpd(['call', 'monitor__poll-system-stats']);
      expect(direct.exitCode).not.toBe(0);
      expect(direct.stderr).toContain('for the App of server "monitor" only');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a chat’s tool call with an App shows the App inline',
    async () => {
      api.script(
        { content: [{ type: 'tool_use', name: 'clock__get-time', input: {} }], stopReason: 'tool_use' },
        { content: [{ type: 'text', text: 'Here is the time.' }] },
      );
      await page.goto(`${base}/ui/#/chat`);
      await page.getByLabel('Message').fill('what time is it on the server?');
      await page.getByRole('button', { name: 'Send' }).click();
      const transcript = page.getByTestId('chat-transcript');
      await expect.poll(() => transcript.textContent(), { timeout: 15_000 }).toContain('Here is the time.');
      await expect.poll(() => transcript.getByTestId('app-view').getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
      const app = await appFrame(page);
      await expect.poll(() => app.locator('#server-time').textContent(), { timeout: 10_000 }).toMatch(/^\d{4}-\d\d-\d\dT/);
      // Claude got the tool's result as the server gave it: no link in it, and no app-only tool offered.
      const sent = JSON.stringify(api.requests.at(-1)!.body.messages.at(-1));
      expect(sent).not.toContain('Open its app');
      expect(JSON.stringify(api.requests.at(-1)!.body.tools)).not.toContain('poll-system-stats');
      await shotOf(page, 'app-chat');
      // The App's message goes to this chat, as the person's next message.
      api.script({ content: [{ type: 'text', text: 'Got the message from the App.' }] });
      await app.locator('#message-text').fill('a message from the App');
      await app.getByRole('button', { name: 'Send Message' }).click();
      await expect.poll(() => transcript.textContent(), { timeout: 15_000 }).toContain('Got the message from the App.');
      expect(await transcript.locator('.message.user').allTextContents()).toContain('youa message from the App');
      expect(JSON.stringify(api.requests.at(-1)!.body.messages.at(-1))).toContain('a message from the App');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'a terminal user opens the link `mcpd call` printed: the live App, in a browser never signed in',
    async () => {
      const call = await mcpd(['call', 'clock__get-time']);
      expect(call.exitCode, call.stderr).toBe(0);
      const link = /Open its app: (\S+)/.exec(call.stdout)?.[1];
      expect(link, call.stdout).toMatch(/\/ui\/app\//);
      const fresh = await browser.newContext();
      try {
        const own = await fresh.newPage();
        // Slow frames (a loaded machine): the connection opens before the page's effects run.
        await own.addInitScript(() => {
          const later = (callback: (time: number) => void) => setTimeout(() => callback(performance.now()), 400);
          (globalThis as unknown as { requestAnimationFrame: typeof later }).requestAnimationFrame = later;
        });
        await own.goto(link!);
        await expect.poll(() => own.getByTestId('app-view').getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
        const app = await appFrame(own);
        const time = /\d{4}-\d\d-\d\dT[\d:.]+Z/.exec(call.stdout)![0];
        await expect.poll(() => app.locator('#server-time').textContent(), { timeout: 10_000 }).toBe(time);
        await app.getByRole('button', { name: 'Get Server Time' }).click();
        await expect.poll(() => app.locator('#server-time').textContent(), { timeout: 10_000 }).not.toBe(time);
        // The link opens that view, not the dashboard.
        const dashboard = await own.goto(`${new URL(link!).origin}/ui/`);
        expect(dashboard?.status()).toBe(401);
        // An expired or made-up link says so.
        const expired = await own.goto(link!.replace(/[^/]+$/, 'expiredview'));
        expect(expired?.status()).toBe(404);
        expect(await own.textContent('body')).toContain('This App view has expired');
      } finally {
        await fresh.close();
      }
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'an App reaches neither the dashboard’s cookie, its page, its live connection, nor another server’s tool',
    async () => {
      await page.goto(`${base}/ui/#/tools/bad__peek`);
      await page.locator('textarea, input').first().waitFor();
      await page.getByRole('button', { name: 'edit as JSON' }).click();
      await page.locator('textarea[name=arguments-json]').fill(JSON.stringify({ dashboard: base }));
      await page.getByRole('button', { name: 'Call' }).click();
      const app = await appFrame(page);
      await expect.poll(() => app.locator('#report').textContent(), { timeout: 20_000 }).toContain('"done":true');
      const report = JSON.parse((await app.locator('#report').textContent())!) as Record<string, string>;
      expect(report['cookie']).toBe('');
      expect(report['page']).toBe('blocked');
      expect(['refused', 'blocked']).toContain(report['ws']);
      expect(report['other']).toMatch(/^refused: .*a tool of server "clock"/);
      expect(report['own']).toBe('hello from apps-fixture');
      // The dashboard's connection is still the page's own.
      expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('open');
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'bad Apps get a clear message in the page: not HTML, huge, a CSP naming mcpd, a flood',
    async () => {
      const run = async (tool: string) => {
        await page.goto(`${base}/ui/#/tools/bad__${tool}`);
        await page.getByRole('button', { name: 'Call' }).click();
        await page.getByTestId('app-view').waitFor();
      };
      await run('bad_mime');
      await expect.poll(() => page.getByTestId('app-error').textContent()).toContain('is application/json, not an App');
      await run('huge');
      await expect.poll(() => page.getByTestId('app-error').textContent()).toContain('mcpd shows Apps of up to 4 MB');
      await run('greedy_csp');
      await expect.poll(() => page.getByTestId('app-warning').textContent()).toContain('http://127.0.0.1:*');
      expect(await page.getByTestId('app-warning').textContent()).not.toContain('api.example.com');
      await run('flood');
      await expect.poll(() => page.getByTestId('app-error').textContent(), { timeout: 15_000 }).toContain('mcpd stopped it');
      expect(await page.locator('[data-testid=app-frame]').count()).toBe(0);
      // The page is still alive and connected.
      expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('open');
    },
    STEP_TIMEOUT_MS,
  );
});
