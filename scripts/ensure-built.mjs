// Builds when the build is missing or older than the sources: `npm start` and `npm run lint` on a
// fresh clone (npm ci runs no build: the package has no install script, so installing it from the
// registry asks nothing of the user), and no rebuild when nothing changed.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'bundle', 'mcpd.js');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const inputs = ['src', 'scripts/bundle-cli.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) => join(root, p));
const stale = !existsSync(built) || Math.max(...inputs.filter(existsSync).map(newest)) > statSync(built).mtimeMs;
if (stale) execSync('npm run build', { cwd: root, stdio: 'inherit' });
