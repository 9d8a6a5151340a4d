import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { ROOT } from '../support/fixtures.js';

describe('docs/errors.md', () => {
  it('lists exactly the error codes in src/errors.ts', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(MCPD_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});
