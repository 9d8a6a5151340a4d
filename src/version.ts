import { readFileSync } from 'node:fs';

/**
 * mcpd's version, from its package.json: one level above src/ and dist/, two above the CLI
 * bundle's dist/bundle/.
 */
function readVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mcpd' && pkg.version) return pkg.version;
    } catch {
      // not there: the next
    }
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();
