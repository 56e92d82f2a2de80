import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { IdfTable } from './idf-table.js';

/** What the table replaces: one Map.set per line, word up to the line's last space. */
function asMap(text: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.lastIndexOf(' ');
    if (sp > 0) map.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return map;
}

const table = (text: string, slice?: number): IdfTable => {
  const t = new IdfTable(Buffer.from(text, 'utf8'));
  while (!t.complete) t.read(slice);
  return t;
};

describe('IdfTable', () => {
  it("gives the value of every word of jieba's real table, as a Map of it would, read in slices or at once", () => {
    const { idf } = createRequire(import.meta.url)('@node-rs/jieba/dict.js') as { idf: Buffer };
    const text = idf.toString('utf8');
    const reference = asMap(text);
    expect(reference.size).toBeGreaterThan(200_000);
    for (const t of [table(text), table(text, 20_000)]) {
      for (const [word, value] of reference) if (t.get(word) !== value) expect([word, t.get(word)]).toEqual([word, value]);
    }
  });

  it('gives undefined for words it lacks, prefixes and extensions included', () => {
    const t = table('游泳馆 10.5\n时候 4.3\n');
    expect(t.get('游泳')).toBeUndefined();
    expect(t.get('游泳馆们')).toBeUndefined();
    expect(t.get('')).toBeUndefined();
    expect(t.get('护照')).toBeUndefined();
  });

  it('keeps the last value of a word listed twice, words holding spaces whole, and skips lines without a value', () => {
    const t = table('甲 1\n乙 2\n甲 3\nNew York 7.5\n只有词\n 9\n\n丙 4');
    expect(t.get('甲')).toBe(3);
    expect(t.get('乙')).toBe(2);
    expect(t.get('New York')).toBe(7.5);
    expect(t.get('只有词')).toBeUndefined();
    expect(t.get('丙')).toBe(4);
    expect(t.get('')).toBeUndefined();
  });

  it('answers only what it has read so far', () => {
    const t = new IdfTable(Buffer.from('甲 1\n乙 2\n', 'utf8'));
    t.read(1);
    expect(t.complete).toBe(false);
    expect([t.get('甲'), t.get('乙')]).toEqual([1, undefined]);
    t.read();
    expect(t.complete).toBe(true);
    expect(t.get('乙')).toBe(2);
  });
});
