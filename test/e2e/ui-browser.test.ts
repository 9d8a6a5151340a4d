/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * daemon started by the CLI, with real servers (our fixture and server-everything) and the
 * Messages API stand-in for the chat. With MCPD_SCREENSHOTS=DIR it also writes the screenshots
 * the README shows.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_TIMEOUTS, fixtureEntry, ROOT, tempDir, waitFor } from '../support/fixtures.js';
import { BROWSER_REQUIRED, CHROMIUM, launchBrowser } from '../support/browser.js';
import { mcpdWith, serverRow, shot as shotOf } from '../support/dashboard.js';
import { MessagesApiStandIn } from '../support/messages-api.js';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const api = new MessagesApiStandIn();
const dir = tempDir('mcpd-ui-e2e-');
const home = join(dir.path, 'home');
const configFile = join(dir.path, 'mcp.config.json');
let env: Record<string, string>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let loginUrl: string;
let base: string;

const mcpd = mcpdWith(() => env);
const shot = (name: string) => shotOf(page, name);
const row = (server: string) => serverRow(page, server);

describe.skipIf(!CHROMIUM && !BROWSER_REQUIRED)('the dashboard in Chromium', () => {
  beforeAll(async () => {
    await api.start();
    env = { MCPD_HOME: home, ANTHROPIC_API_KEY: 'sk-ant-ui', ANTHROPIC_BASE_URL: api.url, PATH: process.env['PATH'] ?? '' };
    writeFileSync(
      configFile,
      JSON.stringify({
        servers: {
          // A visible backoff when it is killed: the page must show it.
          fx: fixtureEntry(
            {},
            {
              timeouts: FAST_TIMEOUTS,
              restart: { maxRestarts: 5, windowMs: 60_000, initialDelayMs: 1_500, maxDelayMs: 3_000, resetAfterMs: 60_000 },
            },
          ),
          everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
          // Lazy: learns its catalogue, then waits idle with no process until a call wakes it.
          sleepy: fixtureEntry({}, { start: 'lazy', idleStopMs: 2_000 }),
        },
        // Tool search on (a small catalogue, so by setting): fx__echo stays loaded, the rest deferred.
        chat: { approval: { ask: ['fx__echo'] }, toolSearch: true, pinnedTools: ['fx__echo'] },
      }),
    );
    const started = await mcpd(['start', '--config', configFile]);
    expect(started.exitCode, started.stderr).toBe(0);
    const ui = await mcpd(['ui', '--no-browser']);
    expect(ui.exitCode, ui.stderr).toBe(0);
    loginUrl = ui.stdout.trim();
    base = new URL(loginUrl).origin;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1360, height: 820 } });
    // A step that cannot happen fails with its own message, well before the test's timeout.
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    page.on('pageerror', (error) => console.error('page error:', error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await mcpd(['stop']);
    await api.stop();
    dir.cleanup();
  });

  it('logs in from the mcpd ui link and shows every server, live', async () => {
    await page.goto(loginUrl);
    expect(page.url()).toBe(`${base}/ui/`); // the token left the address bar
    await expect.poll(() => row('fx').locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    await expect.poll(() => row('everything').locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).toBe('open');
    // How each is reached, and the MCP revision spoken to it (server-everything is of 2025).
    expect(await row('everything').locator('[data-col=via]').textContent()).toBe('stdio 2025-11-25');
    // The page as served: how long a reload takes from the daemon (reported, not asserted).
    const timing = await page.evaluate(() => {
      // (The browser's PerformanceNavigationTiming; this project's types are Node's, without the DOM.)
      const nav = performance.getEntriesByType('navigation' as never)[0] as unknown as {
        domContentLoadedEventEnd: number;
        loadEventEnd: number;
      };
      return { domContentLoaded: Math.round(nav.domContentLoadedEventEnd), load: Math.round(nav.loadEventEnd) };
    });
    console.log(`dashboard load: DOMContentLoaded ${timing.domContentLoaded} ms, load ${timing.load} ms`);
    await shot('servers');
  });

  it('shows a killed server going down and coming back, with its restart counted', async () => {
    const pid = Number(await row('fx').locator('[data-col=pid]').textContent());
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => row('fx').locator('[data-state]').getAttribute('data-state'), { timeout: 10_000 }).toBe('backoff');
    await expect.poll(() => row('fx').locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
    expect(await row('fx').locator('[data-col=restarts]').textContent()).toBe('1');
    expect(Number(await row('fx').locator('[data-col=pid]').textContent())).not.toBe(pid);
    // Its detail: the last error names the exit, and the config is there (secrets masked).
    await row('fx').locator('a').first().click();
    await expect.poll(() => page.getByTestId('server-detail').textContent()).toMatch(/Last error[\s\S]*Config \(secrets masked\)/);
    await shot('server-detail');
  });

  it('shows a lazy server idle, "wakes on first use", and running while a call wakes it', async () => {
    await expect.poll(() => row('sleepy').locator('[data-state]').getAttribute('data-state'), { timeout: 20_000 }).toBe('idle');
    expect(await row('sleepy').locator('[data-col=idle]').textContent()).toMatch(/^wakes on first use, last ran \S+ ago$/);
    expect(await row('sleepy').locator('[data-col=pid]').textContent()).toBe('-');
    // Every state the row shows from here on, in order (a poll could miss one that passes quickly).
    await page.evaluate(() => {
      const seen: string[] = [];
      (globalThis as unknown as { seen: string[] }).seen = seen;
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
      const table = doc.querySelector('[data-testid=servers]') as object;
      const read = () => {
        const badge = doc.querySelector('tr[data-server="sleepy"] [data-state]') as { getAttribute(n: string): string } | null;
        const state = badge?.getAttribute('data-state');
        if (state && seen.at(-1) !== state) seen.push(state);
      };
      const Observer = (globalThis as unknown as { MutationObserver: new (f: () => void) => { observe(n: object, o: object): void } })
        .MutationObserver;
      new Observer(read).observe(table, { subtree: true, childList: true, attributes: true, characterData: true });
      read();
    });
    const call = await mcpd(['call', 'sleepy__echo', '{"message":"wake up"}']);
    expect(call.exitCode, call.stderr).toBe(0);
    expect(call.stdout).toContain('wake up');
    await expect
      // (starting and stopping may pass within one frame: not asked for.)
      .poll(
        () => page.evaluate(() => (globalThis as unknown as { seen: string[] }).seen.filter((x) => x !== 'starting' && x !== 'stopping')),
        {
          timeout: 20_000,
        },
      )
      .toEqual(['idle', 'running', 'idle']);
    await shot('servers-idle');
  });

  it('stops and starts a server from its buttons', async () => {
    await row('everything').getByRole('button', { name: 'Stop', exact: true }).click();
    await expect.poll(() => row('everything').locator('[data-state]').getAttribute('data-state'), { timeout: 10_000 }).toBe('stopped');
    await row('everything').getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => row('everything').locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
  });

  it('calls a tool from the form made from its input schema, and shows the result and its duration', async () => {
    await page.click('a[data-tab=tools]');
    await page.getByLabel('Search tools').fill('get-sum');
    await page.locator('[data-testid=tool-list] a[title="everything__get-sum"]').click();
    await page.getByLabel(/^a\b/).fill('19');
    await page.getByLabel(/^b\b/).fill('23');
    await page.getByRole('button', { name: 'Call' }).click();
    const result = page.getByTestId('tool-result');
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/42/);
    expect(await result.textContent()).toMatch(/in \d+ ms/);
    // A required field left empty is named, and nothing is called.
    await page.goto(`${base}/ui/#/tools/fx__echo`);
    await page.getByRole('button', { name: 'Call' }).click();
    await expect.poll(() => page.locator('[data-testid=call-form] [role=alert]').textContent()).toContain('message is required');
    await page.getByLabel(/^message/).fill('hello from Chromium');
    await page.getByRole('button', { name: 'Call' }).click();
    await expect.poll(() => page.getByTestId('tool-result').textContent()).toContain('hello from Chromium');
    await shot('tools');
  });

  it("shows a tool's progress while it runs, renders an image result, and cancels a call", async () => {
    await page.goto(`${base}/ui/#/tools/fx__progress`);
    await page.getByLabel(/^ms\b/).fill('1500');
    await page.getByLabel(/^every\b/).fill('100');
    await page.getByRole('button', { name: 'Call' }).click();
    await expect.poll(() => page.getByTestId('progress').locator('progress').getAttribute('value'), { timeout: 10_000 }).not.toBeNull();
    await expect.poll(() => page.getByTestId('tool-result').count(), { timeout: 10_000 }).toBe(1);

    await page.goto(`${base}/ui/#/tools/everything__get-tiny-image`);
    await page.getByRole('button', { name: 'Call' }).click();
    await expect
      .poll(
        () =>
          page
            .locator('[data-testid=tool-result] img')
            .evaluate(
              (img) =>
                (img as unknown as { complete: boolean; naturalWidth: number }).complete &&
                (img as unknown as { naturalWidth: number }).naturalWidth,
            ),
        { timeout: 10_000 },
      )
      .toBeGreaterThan(0);

    await page.goto(`${base}/ui/#/tools/fx__slow`);
    await page.getByLabel(/^ms\b/).fill('60000');
    await page.getByRole('button', { name: 'Call' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect
      .poll(() => page.locator('[data-testid=call-form] [role=alert]').textContent(), { timeout: 10_000 })
      .toContain('MCPD_CALL_CANCELLED');
  });

  it("answers a server's question during a call from the page (elicitation)", async () => {
    await page.goto(`${base}/ui/#/tools/fx__ask`);
    await page.getByRole('button', { name: 'Call' }).click();
    const question = page.getByTestId('call-question');
    await expect.poll(() => question.textContent(), { timeout: 10_000 }).toContain('What is your name?');
    await question.getByLabel(/^name/).fill('Grace');
    await question.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.getByTestId('tool-result').textContent(), { timeout: 10_000 }).toContain('hello Grace');
    expect(await question.count()).toBe(0);
  });

  it('reads a resource and gets a prompt with its arguments', async () => {
    await page.click('a[data-tab=resources]');
    await page.locator('[data-testid=resource-list] a').first().click();
    await expect.poll(() => page.getByTestId('resource-read').locator('pre, img, .muted').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('resource-read').locator('[role=alert]').count()).toBe(0);
    await page.click('a[data-tab=prompts]');
    await page.locator('[data-testid=prompt-list] a', { hasText: 'everything__args-prompt' }).click();
    await page.getByLabel(/^city/).fill('Lisbon');
    await page.getByRole('button', { name: 'Get' }).click();
    // Whatever comes first, the messages or an error: an error fails with its own text.
    await page.locator('[data-testid=prompt-messages], main [role=alert]').first().waitFor();
    expect(await page.locator('main [role=alert]').allTextContents()).toEqual([]);
    expect(await page.getByTestId('prompt-messages').textContent()).toContain('Lisbon');
  });

  it('follows the logs as they come, filters them, and pauses', async () => {
    await page.click('a[data-tab=logs]');
    const lines = page.getByTestId('log-lines');
    expect((await mcpd(['call', 'fx__log', '{"text":"marker-one from the test"}'])).exitCode).toBe(0);
    await expect.poll(() => lines.textContent(), { timeout: 10_000 }).toContain('marker-one from the test');
    await page.getByLabel('Filter log text').fill('marker-');
    await expect.poll(() => lines.locator('.log-line').count()).toBe(1);
    await page.getByRole('button', { name: 'Pause' }).click();
    expect((await mcpd(['call', 'fx__log', '{"text":"marker-two from the test"}'])).exitCode).toBe(0);
    await expect.poll(() => page.getByRole('button', { name: /Resume \(\d+ new\)/ }).count(), { timeout: 10_000 }).toBe(1);
    expect(await lines.textContent()).not.toContain('marker-two');
    await page.getByRole('button', { name: /Resume/ }).click();
    await expect.poll(() => lines.textContent()).toContain('marker-two from the test');
    await page.getByLabel('Filter log text').fill('');
    await page.getByLabel('Source').selectOption('fx');
    await expect.poll(() => lines.locator('.log-line .src').allTextContents()).not.toContain('everything');
    await shot('logs');
  });

  it('chats with Claude: streams the turn, and a tool call is approved in the page', async () => {
    api.script(
      {
        content: [
          { type: 'text', text: 'Let me echo that. ' },
          { type: 'tool_use', name: 'fx__echo', input: { message: 'approved in the page' } },
        ],
        stopReason: 'tool_use',
      },
      { content: [{ type: 'text', text: 'The server echoed it back.' }] },
    );
    await page.click('a[data-tab=chat]');
    await page.getByLabel('Message').fill('please echo something');
    await page.getByRole('button', { name: 'Send' }).click();
    const request = page.getByTestId('chat-request');
    await expect.poll(() => request.textContent(), { timeout: 10_000 }).toContain('fx__echo');
    const transcript = page.getByTestId('chat-transcript');
    // While the turn waits for the approval, the message shows once.
    expect(await transcript.locator('.message.user').allTextContents()).toEqual(['youplease echo something']);
    await request.getByRole('button', { name: 'Yes' }).click();
    await expect.poll(() => transcript.textContent(), { timeout: 10_000 }).toContain('The server echoed it back.');
    // The turn's last text streams in before the turn ends: its end line comes after.
    await expect.poll(() => transcript.textContent(), { timeout: 10_000 }).toMatch(/end_turn · \d+ in, \d+ out/);
    expect(await transcript.textContent()).toMatch(/fx__echo ✓ \d+ ms/);
    // The tool really ran with the approved input.
    expect(JSON.stringify(api.requests.at(-1)!.body.messages.at(-1))).toContain('approved in the page');
    expect(await transcript.locator('.message.user').count()).toBe(1);
    await expect.poll(() => page.getByTestId('chat-sessions').locator('li').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('chat-sessions').textContent()).toContain('· 1 turn ·');
    await shot('chat');
  });

  it("shows Claude's tool search as a step of its own, before the call it found", async () => {
    api.script(
      {
        content: [
          { type: 'tool_search', query: 'add two numbers' },
          { type: 'tool_use', name: 'everything__get-sum', input: { a: 2, b: 3 } },
        ],
        stopReason: 'tool_use',
      },
      { content: [{ type: 'text', text: 'Two and three make five.' }] },
    );
    await page.click('a[data-tab=chat]');
    await page.getByLabel('Message').fill('add two and three');
    await page.getByRole('button', { name: 'Send' }).click();
    const transcript = page.getByTestId('chat-transcript');
    await expect.poll(() => transcript.textContent(), { timeout: 10_000 }).toContain('Two and three make five.');
    const search = transcript.locator('.tool-search').last();
    expect(await search.textContent()).toMatch(/^⌕ searched the tools for “add two numbers”: found .*everything__get-sum/);
    expect(await transcript.textContent()).toMatch(/everything__get-sum ✓ \d+ ms/);
    expect(JSON.stringify(api.requests.at(-1)!.body.messages.at(-1))).toContain('The sum of 2 and 3 is 5');
  });

  it('lists clients and plugins', async () => {
    await page.click('a[data-tab=clients]');
    await expect.poll(() => page.locator('main').textContent()).toContain('Where the daemon listens');
    expect(await page.locator('main').textContent()).toContain(`${base}/ui/`);
  });

  it('reconnects when the daemon restarts, and says so', async () => {
    await page.click('a[data-tab=servers]');
    const before = await page.getByTestId('connection').textContent();
    expect((await mcpd(['stop'])).exitCode).toBe(0);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 10_000 }).toBe('connecting');
    const started = await mcpd(['start', '--config', configFile]);
    expect(started.exitCode, started.stderr).toBe(0);
    await expect.poll(() => page.getByTestId('connection').getAttribute('data-state'), { timeout: 15_000 }).toBe('open');
    expect(await page.getByTestId('notice').textContent()).toMatch(/Reconnected: the daemon restarted \(pid \d+ → \d+\)/);
    expect(await page.getByTestId('connection').textContent()).not.toBe(before);
    await expect.poll(() => row('fx').locator('[data-state]').getAttribute('data-state'), { timeout: 15_000 }).toBe('running');
  });

  it('holds the token and Origin rules: no cookie, no page; another origin cannot drive it', async () => {
    // A browser that never opened the link.
    const stranger = await browser.newContext();
    const strangerPage = await stranger.newPage();
    const response = await strangerPage.goto(`${base}/ui/`);
    expect(response!.status()).toBe(401);
    expect(await strangerPage.textContent('body')).toContain('mcpd ui');
    await stranger.close();

    // A page of another origin in the signed-in browser (another loopback port: the same site,
    // so the cookie goes along): it can neither open the live connection nor read a page.
    const evil: Server = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>evil</title>'),
    );
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const evilPage = await context.newPage();
      await evilPage.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const outcome = await evilPage.evaluate(async (target) => {
        const ws = await new Promise<string>((resolve) => {
          const socket = new WebSocket(`${target.replace('http', 'ws')}/ui/ws`);
          socket.onopen = () => resolve('open');
          socket.onerror = () => resolve('refused');
          setTimeout(() => resolve('timeout'), 5_000);
        });
        const read = await fetch(`${target}/ui/`, { credentials: 'include' }).then(
          (r) => `read ${r.status}`,
          () => 'blocked',
        );
        return { ws, read };
      }, base);
      expect(outcome).toEqual({ ws: 'refused', read: 'blocked' });
      await evilPage.close();
    } finally {
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
    // The daemon saw and logged the refused connection.
    const logs = await mcpd(['logs', 'daemon', '-n', '50']);
    expect(logs.stdout).toMatch(/dashboard: refused a live connection: Origin http:\/\/127\.0\.0\.1:\d+ may not use this dashboard/);
  });
});

// Keeps the import used when the suite is skipped (no browser on this machine).
void waitFor;
