/**
 * The dashboard's files: the page in the package's ui/ folder, and preact, its hooks and htm
 * from node_modules (the browser gets them as they are published: no build step). The hooks'
 * bare `from "preact"` is pointed at our copy, so the page needs no inline import map and the
 * Content-Security-Policy can forbid every inline script.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { PACKAGE_ROOT } from '../../version.js';

export interface Asset {
  body: Buffer;
  type: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const require = createRequire(import.meta.url);

/** The vendored modules, by the name the page imports them under (/ui/vendor/NAME). */
const VENDOR: Record<string, () => string> = {
  'preact.js': () => join(dirname(require.resolve('preact')), 'preact.module.js'),
  'hooks.js': () => join(dirname(require.resolve('preact/hooks')), 'hooks.module.js'),
  'htm.js': () => join(dirname(require.resolve('htm')), 'htm.module.js'),
  // ext-apps' host side, bundled for the browser at build time (scripts/bundle-cli.mjs).
  'app-bridge.js': () => join(PACKAGE_ROOT, 'dist', 'ui', 'app-bridge.js'),
};

export class UiAssets {
  private readonly cache = new Map<string, Promise<Asset | null>>();

  constructor(private readonly folder = join(PACKAGE_ROOT, 'ui')) {}

  /** The file for a path under /ui/ (`''` is the page), or null when there is none. */
  get(path: string): Promise<Asset | null> {
    let asset = this.cache.get(path);
    if (!asset) {
      asset = this.load(path).catch(() => null);
      this.cache.set(path, asset);
      // Only what exists is kept: made-up paths never grow the cache.
      void asset.then((found) => {
        if (!found) this.cache.delete(path);
      });
    }
    return asset;
  }

  private async load(path: string): Promise<Asset | null> {
    if (path.startsWith('vendor/')) {
      const locate = VENDOR[path.slice('vendor/'.length)];
      if (!locate) return null;
      const text = (await readFile(locate(), 'utf8'))
        .replace(/from\s*"preact"/g, 'from"./preact.js"')
        .replace(/\/\/# sourceMappingURL=.*$/m, '');
      return { body: Buffer.from(text), type: TYPES['.js']! };
    }
    const file = normalize(join(this.folder, path === '' ? 'index.html' : path));
    // Nothing outside ui/ (a `..` in the path), and only the kinds of file the page is made of.
    if (!file.startsWith(this.folder + sep)) return null;
    const type = TYPES[extname(file)];
    if (!type) return null;
    return { body: await readFile(file), type };
  }
}
