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

// The dashboard's MCP Apps host side: ext-apps' official AppBridge and its PostMessageTransport,
// bundled for the browser (the package imports the MCP SDK and zod by bare names) and served
// as /ui/vendor/app-bridge.js (src/fronts/ui/assets.ts).
const uiOut = join(root, 'dist', 'ui');
rmSync(uiOut, { recursive: true, force: true });
await build({
  stdin: {
    contents: "export { AppBridge, PostMessageTransport, buildAllowAttribute } from '@modelcontextprotocol/ext-apps/app-bridge';",
    resolveDir: root,
    sourcefile: 'app-bridge-entry.js',
  },
  outfile: join(uiOut, 'app-bridge.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
