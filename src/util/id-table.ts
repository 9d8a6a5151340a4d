/**
 * Things in flight by id, for a table that lives long and churns: one add and one delete per
 * call. Not a Map: V8 chains a Map's rehashed backing tables to their successors and keeps what
 * they held, so once one of them is in the old generation, every later table and every value
 * it held survives the young GC, is promoted, and waits for a full GC. Measured on the relayed
 * call path (Node 20 and 22 alike): a long-lived Map with that churn made about a fifth of all
 * per-call garbage survive. An object in dictionary mode has no such chain.
 *
 * Keys are strings that are never array indices: numbers go in with a prefix, so `1` and `"1"`
 * (distinct JSON-RPC ids) stay distinct and nothing becomes an element of a sparse array.
 */
export type TableId = string | number;

function keyOf(id: TableId): string {
  return typeof id === 'number' ? `#${id}` : `$${id}`;
}

export class IdTable<V> {
  private entries: Record<string, V> = Object.create(null) as Record<string, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: TableId): V | undefined {
    return this.entries[keyOf(id)];
  }

  has(id: TableId): boolean {
    return keyOf(id) in this.entries;
  }

  set(id: TableId, value: V): void {
    const key = keyOf(id);
    if (!(key in this.entries)) this.count += 1;
    this.entries[key] = value;
  }

  delete(id: TableId): boolean {
    const key = keyOf(id);
    if (!(key in this.entries)) return false;
    delete this.entries[key];
    this.count -= 1;
    return true;
  }

  /** The values, as a list taken now (safe to change the table while going through it). */
  values(): V[] {
    return Object.values(this.entries);
  }

  clear(): void {
    this.entries = Object.create(null) as Record<string, V>;
    this.count = 0;
  }
}
