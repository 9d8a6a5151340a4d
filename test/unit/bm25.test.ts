import { describe, expect, it } from 'vitest';
import { Bm25Index, words } from '../../src/util/bm25.js';

describe('words', () => {
  it('splits names where people would, folds case and plurals, drops filler words', () => {
    expect(words('filesystem__read_text_file')).toEqual(['filesystem', 'read', 'text', 'file']);
    expect(words('getFileContents of the repositories')).toEqual(['get', 'file', 'content', 'repository']);
    expect(words('class address')).toEqual(['class', 'address']);
    expect(words('')).toEqual([]);
  });
});

describe('Bm25Index', () => {
  const tools = [
    { name: 'fs__read_file', text: 'Read the complete contents of a file' },
    { name: 'fs__write_file', text: 'Create a new file or overwrite one' },
    { name: 'gh__create_issue', text: 'Create a new issue in a GitHub repository' },
    { name: 'gh__list_issues', text: 'List issues of a repository' },
  ];
  const index = new Bm25Index(tools, (t) => [
    [t.name, 3],
    [t.text, 1],
  ]);
  const names = (query: string, limit = 10) => index.search(query, limit).map((r) => r.item.name);

  it('ranks what a query names first, and leaves out what it does not match', () => {
    expect(names('read a file')[0]).toBe('fs__read_file');
    expect(names('create an issue on github')[0]).toBe('gh__create_issue');
    expect(names('issues')).toEqual(expect.arrayContaining(['gh__create_issue', 'gh__list_issues']));
    expect(names('issues')).not.toContain('fs__read_file');
    expect(names('nothing like it')).toEqual([]);
  });

  it('keeps to the limit, and equal scores in the list order', () => {
    expect(names('file', 1)).toHaveLength(1);
    const same = new Bm25Index(['a_x', 'b_x', 'c_x'], (t) => [[t, 1]]);
    expect(same.search('x', 3).map((r) => r.item)).toEqual(['a_x', 'b_x', 'c_x']);
  });
});
