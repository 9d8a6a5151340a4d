/**
 * Ranking by relevance: BM25 over a few weighted text fields of each item (no network, no
 * model). Words are split where people would split them (`get_file-contents`, `readFile`,
 * `fs__read`), so "read file" finds `filesystem__read_text_file`.
 */

/** BM25's usual constants: term saturation and length normalisation. */
const K1 = 1.2;
const B = 0.75;

/** Words too common to tell things apart. */
const STOP = new Set(
  'a an and are as at be by for from in into is it its of on or the this that to with you your can will use used using'.split(' '),
);

/** The words of a text, lower case, split at non-letters and camelCase, plurals folded. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').split(/[^\p{L}\p{N}]+/u)) {
    if (raw === '') continue;
    let word = raw.toLowerCase();
    if (STOP.has(word)) continue;
    // "files" finds "file", "queries" finds "query" ("class" stays: a double s is not a plural).
    if (word.length > 4 && word.endsWith('ies')) word = `${word.slice(0, -3)}y`;
    else if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) word = word.slice(0, -1);
    out.push(word);
  }
  return out;
}

/** An item's texts, each with how much a word in it counts. */
export type Fields = [text: string | undefined, weight: number][];

interface Document<T> {
  item: T;
  length: number;
  counts: Map<string, number>;
}

export interface Ranked<T> {
  item: T;
  score: number;
}

/** An index of some items, built once for a list and asked many times. */
export class Bm25Index<T> {
  private readonly documents: Document<T>[];
  private readonly frequency = new Map<string, number>();
  private readonly averageLength: number;

  constructor(
    readonly items: readonly T[],
    fields: (item: T) => Fields,
  ) {
    this.documents = items.map((item) => {
      const counts = new Map<string, number>();
      for (const [text, weight] of fields(item)) {
        if (text) for (const word of words(text)) counts.set(word, (counts.get(word) ?? 0) + weight);
      }
      let length = 0;
      for (const [word, count] of counts) {
        length += count;
        this.frequency.set(word, (this.frequency.get(word) ?? 0) + 1);
      }
      return { item, length, counts };
    });
    this.averageLength = this.documents.reduce((sum, d) => sum + d.length, 0) / Math.max(1, this.documents.length);
  }

  /** The best `limit` items for `query`, best first (ties in the list's order); none when no word matches. */
  search(query: string, limit: number): Ranked<T>[] {
    const terms = [...new Set(words(query))];
    const n = this.documents.length;
    const ranked: Ranked<T>[] = [];
    for (const document of this.documents) {
      let score = 0;
      for (const term of terms) {
        const tf = document.counts.get(term);
        if (tf === undefined) continue;
        const df = this.frequency.get(term)!;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * document.length) / this.averageLength));
      }
      if (score > 0) ranked.push({ item: document.item, score });
    }
    // Array sort is stable: equal scores keep the list's order.
    return ranked.sort((x, y) => y.score - x.score).slice(0, limit);
  }
}
