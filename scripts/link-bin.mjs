// Links node_modules/.bin/mcpd to the built CLI (the bundle) so `npx mcpd` runs this checkout's CLI.
// (npm links the bin of packages it installs, not the root package's own.)
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'dist', 'bundle', 'mcpd.js');
const link = join(root, 'node_modules', '.bin', 'mcpd');
mkdirSync(dirname(link), { recursive: true });
rmSync(link, { force: true });
symlinkSync(relative(dirname(link), target), link);
chmodSync(target, 0o755);
