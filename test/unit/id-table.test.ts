import { describe, expect, it } from 'vitest';
import { IdTable } from '../../src/hotpath/id-table.js';

describe('IdTable', () => {
  it('keeps the JSON-RPC ids 1 and "1" apart, and counts what it holds', () => {
    const table = new IdTable<string>();
    table.set(1, 'number');
    table.set('1', 'string');
    table.set('__proto__', 'proto'); // no prototype to trip over
    expect(table.size).toBe(3);
    expect(table.get(1)).toBe('number');
    expect(table.get('1')).toBe('string');
    expect(table.get('__proto__')).toBe('proto');
    expect(table.has(2)).toBe(false);
    table.set(1, 'again'); // replacing is not adding
    expect(table.size).toBe(3);
    expect(table.delete(1)).toBe(true);
    expect(table.delete(1)).toBe(false);
    expect(table.get(1)).toBeUndefined();
    expect(table.size).toBe(2);
    expect(table.values().sort()).toEqual(['proto', 'string']);
  });

  it('lets values be deleted while going through them, and clears', () => {
    const table = new IdTable<number>();
    for (let i = 0; i < 100; i++) table.set(`mcpd-${i}`, i);
    for (const value of table.values()) if (value % 2 === 0) table.delete(`mcpd-${value}`);
    expect(table.size).toBe(50);
    table.clear();
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
  });
});
