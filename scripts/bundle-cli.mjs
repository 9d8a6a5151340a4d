// Bundles the CLI into dist/bundle/ (one file per lazily loaded command, shared chunks): a
// one-shot command loads a few files instead of hundreds of modules. tsx stays outside (it
// starts loaders of its own); the metafile lets a test check what each command pulls in.
import { build } from 'esbuild';
import { rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { mcpd: join(root, 'src', 'cli', 'main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['tsx', 'tsx/*', 'typescript'],
  // ESM builds first: jsonc-parser's UMD build hides its requires from the bundler.
  mainFields: ['module', 'main'],
  // Bundled CommonJS (ws, cosmiconfig) calls require: give the ESM chunks one.
  banner: { js: "import { createRequire as __mcpdRequire } from 'node:module'; const require = __mcpdRequire(import.meta.url);" },
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
chmodSync(join(outdir, 'mcpd.js'), 0o755);
