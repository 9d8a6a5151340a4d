import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAEMON_NODE_FLAGS } from '../../src/cli/daemon-flags.js';
import { ROOT } from '../support/fixtures.js';

describe('the daemon\'s node flags', () => {
  it('are the same for npm start as for mcpd start and the login service', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['start']).toBe(`node ${DAEMON_NODE_FLAGS.join(' ')} dist/bundle/mcpd.js serve`);
  });
});
