import { describe, expect, it } from 'vitest';
import { assignNames, isValidName, MAX_NAME_LENGTH } from '../../src/catalogue/naming.js';

describe('assignNames', () => {
  it('namespaces as <server>__<tool>', () => {
    expect(assignNames([{ server: 'fs', name: 'read_file' }])).toEqual(['fs__read_file']);
  });

  it('makes any server or tool name valid for Claude', () => {
    const odd = [
      { server: 'my.server', name: 'get.thing' },
      { server: 'with space', name: 'tool with spaces' },
      { server: 'ünïcode', name: 'émoji🎉' },
      { server: 'x', name: 'a'.repeat(100) },
      { server: 's'.repeat(100), name: 't' },
      { server: 'e', name: '' },
    ];
    const names = assignNames(odd);
    for (const name of names) expect(isValidName(name), name).toBe(true);
    expect(names[0]).toBe('my_server__get_thing');
    expect(names[1]).toBe('with_space__tool_with_spaces');
  });

  it('shortens a long name to 64 with a stable hash suffix', () => {
    const [first] = assignNames([{ server: 'x', name: 'a'.repeat(100) }]);
    expect(first).toHaveLength(MAX_NAME_LENGTH);
    expect(first).toMatch(/^x__a+_[0-9a-f]{8}$/);
    expect(assignNames([{ server: 'x', name: 'a'.repeat(100) }])[0]).toBe(first);
    // A different long name with the same first 55 characters gets a different suffix.
    const [other] = assignNames([{ server: 'x', name: `${'a'.repeat(99)}b` }]);
    expect(other).not.toBe(first);
  });

  it('keeps names within a shorter limit, room for the prefix a host adds (Claude Code: mcp__mcpd__)', () => {
    const inputs = [
      { server: 'everything-with-a-long-name', name: 'get-resource-reference-of-a-kind' },
      { server: 'fs', name: 'read_file' },
    ];
    const names = assignNames(inputs, 53);
    expect(names[0]).toHaveLength(53);
    expect(`mcp__mcpd__${names[0]}`.length).toBeLessThanOrEqual(64);
    expect(names[0]).toMatch(/^everything-with-a-long-name__get-resource-re_[0-9a-f]{8}$/);
    expect(names[1]).toBe('fs__read_file');
    // The same rule as at 64: stable, and a name that fits is left as it is.
    expect(assignNames(inputs, 53)).toEqual(names);
    expect(assignNames(inputs)[0]).toBe('everything-with-a-long-name__get-resource-reference-of-a-kind');
  });

  it('resolves collisions after sanitising, keeping the exact name for the one that needed no rewrite', () => {
    const names = assignNames([
      { server: 'a.b', name: 'x' },
      { server: 'a_b', name: 'x' },
    ]);
    expect(names[1]).toBe('a_b__x');
    expect(names[0]).toMatch(/^a_b__x_[0-9a-f]{8}$/);
    expect(new Set(names).size).toBe(2);
  });

  it('gives the same names whatever order the inputs come in', () => {
    const inputs = [
      { server: 'a.b', name: 'x' },
      { server: 'a_b', name: 'x' },
      { server: 'a b', name: 'x' },
      { server: 'long', name: 'n'.repeat(80) },
    ];
    const forward = assignNames(inputs);
    const backward = assignNames([...inputs].reverse()).reverse();
    expect(backward).toEqual(forward);
    expect(new Set(forward).size).toBe(inputs.length);
  });
});

describe('globs (picomatch)', () => {
  it('keep the documented syntax: * any run (a / too), ? one character, whole names; and add [..] and {a,b}', async () => {
    const { matchesAny, globToRegExp } = await import('../../src/util/glob.js');
    expect(matchesAny('fs__write_file', ['fs__write_*'])).toBe(true);
    expect(matchesAny('fs__read_file', ['*delete*'])).toBe(false);
    expect(matchesAny('api/v1__call', ['*__call'])).toBe(true);
    expect(matchesAny('abc', ['a?c'])).toBe(true);
    expect(matchesAny('abc', ['ab'])).toBe(false);
    expect(matchesAny('x.y__z', ['x.y__*'])).toBe(true);
    expect(matchesAny('git__log', ['{fs,git}__*'])).toBe(true);
    expect(matchesAny('fs3__x', ['fs[0-9]__*'])).toBe(true);
    expect(globToRegExp('fs__*').test('fs__anything')).toBe(true);
  });
});

describe('names a host makes too long', () => {
  it('warns of a merged name past mcp__mcpd__ room, and of a long own name on /servers/NAME/mcp', async () => {
    const { hostNameWarnings } = await import('../../src/cli/host-names.js');
    const fits = { name: 'fs__read_file', server: 'fs', originalName: 'read_file' };
    expect(hostNameWarnings([fits])).toEqual([]);
    const renamed = { name: `fs__${'r'.repeat(60)}`, server: 'fs', originalName: 'read' };
    expect(hostNameWarnings([renamed])[0]).toContain('becomes 75 characters as Claude Code names it');
    const long = { name: 'github__x_0123abcd', server: 'github', originalName: 'g'.repeat(55) };
    expect(hostNameWarnings([long])).toEqual([expect.stringContaining('on /servers/github/mcp')]);
  });
});
