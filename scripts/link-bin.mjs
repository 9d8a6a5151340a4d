// Links node_modules/.bin/mcpd to the built CLI so `npx mcpd` runs this checkout's CLI.
// Why not package.json "bin": npm 11's `npx` treats a root package's own bin as a directory
// dependency to install into its cache, which fails; a plain link in .bin is found first.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'cli', 'main.js');
const link = join(root, 'node_modules', '.bin', 'mcpd');
mkdirSync(dirname(link), { recursive: true });
rmSync(link, { force: true });
symlinkSync(relative(dirname(link), target), link);
chmodSync(target, 0o755);
