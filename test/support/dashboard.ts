/** What the dashboard's browser tests share: the CLI in their home, screenshots, a server's row. */
import { join } from 'node:path';
import { execa } from 'execa';
import type { Locator, Page } from 'playwright-core';
import { CLI } from './fixtures.js';

/** With MCPD_SCREENSHOTS=DIR the tests also write the screenshots the README shows. */
const SCREENSHOTS = process.env['MCPD_SCREENSHOTS'];

/** The mcpd binary with this environment (its home), never waiting on stdin. */
export function mcpdWith(env: () => Record<string, string>) {
  return (args: string[]) => execa(process.execPath, [CLI, ...args], { reject: false, env: env(), timeout: 30_000, stdin: 'ignore' });
}

export async function shot(page: Page, name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `ui-${name}.png`) });
}

/** A server's row in the servers table. */
export function serverRow(page: Page, server: string): Locator {
  return page.locator(`[data-testid=servers] tr[data-server="${server}"]`);
}
