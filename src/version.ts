import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * mcpd's package.json: one level above src/ and dist/, two above the CLI bundle's dist/bundle/.
 * Its folder holds what ships beside the code (the dashboard's page in ui/).
 */
function findPackage(): { root: string; version: string } {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const url = new URL(path, import.meta.url);
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mcpd' && pkg.version) return { root: dirname(fileURLToPath(url)), version: pkg.version };
    } catch {
      // not there: the next
    }
  }
  return { root: dirname(dirname(fileURLToPath(import.meta.url))), version: '0.0.0' };
}

const found = findPackage();
export const VERSION: string = found.version;
/** The installed package's folder. */
export const PACKAGE_ROOT: string = found.root;
