/**
 * A real Chromium for the dashboard's tests: Debian's `chromium` (installed by .ci/run), driven
 * by playwright-core. Started as the machine allows: headless, no sandbox as root, and none of
 * the background networking a closed network refuses.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM =
  process.env['CHROMIUM_PATH'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

/** CI sets MCPD_BROWSER_TESTS=required: there a missing browser fails the run instead of skipping. */
export const BROWSER_REQUIRED = process.env['MCPD_BROWSER_TESTS'] === 'required';

export function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error("No Chromium found: install Debian's chromium package (apt-get install chromium), or set CHROMIUM_PATH.");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-features=Translate,MediaRouter',
    ],
  });
}
