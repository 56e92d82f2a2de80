/**
 * The mechanics of "how others put it" on a hand-made index (the shipped corpus has one report
 * per town, so the same town's other years need a second report): which reports count as other
 * towns or other years, the span's vector, the per-report cap. Vectors are hand-set unit vectors.
 */
import { describe, expect, it } from 'vitest';
import { findSimilarSentences } from '../../src/drafting/similar.js';
import type { SearchableIndex } from '../../src/retrieve/hybrid.js';
import type { Chunk, ParsedDocument } from '../../src/domain/types.js';

const unit = (...v: number[]) => {
  const n = Math.hypot(...v);
  return Float32Array.from(v.map((x) => x / n));
};

function doc(docId: string, town: string, years: number[], sentences: string[]): { doc: ParsedDocument; chunk: Chunk } {
  const text = sentences.join('');
  const spans: Array<[number, number]> = [];
  let at = 0;
  for (const s of sentences) {
    spans.push([at, at + s.length]);
    at += s.length;
  }
  return {
    doc: { meta: { docId, file: `${docId}.txt`, format: 'txt', hash: docId, title: `${town}${years.join('')}年报告`, town, district: '', date: String(years.at(-1)), years }, text, sections: [], offsetMap: [], removed: [] },
    chunk: { id: `${docId}:0`, docId, text, start: 0, end: text.length, sectionPath: ['一、工作回顾'], role: 'review', town, years, sentences: spans },
  };
}

function indexOf(parts: Array<{ doc: ParsedDocument; chunk: Chunk }>, vectors: Float32Array[][]): SearchableIndex {
  const chunks = parts.map((p) => p.chunk);
  const sentenceRows: number[] = [];
  let next = 0;
  for (const c of chunks) {
    sentenceRows.push(next);
    next += c.sentences.length;
  }
  return {
    index: { chunks, sentenceRows, sentenceEmbeddings: vectors.flat(), embeddings: vectors.map((v) => v[0]!), manifest: { dimension: 3 } },
    documents: new Map(parts.map((p) => [p.doc.meta.docId, p.doc])),
  } as unknown as SearchableIndex;
}

describe('findSimilarSentences', () => {
  const a2022 = doc('a-2022', '甲镇', [2022], ['全面推进乡村振兴战略落地见效。', '持续优化营商环境提升服务水平。']);
  const a2023 = doc('a-2023', '甲镇', [2023], ['深入实施乡村振兴战略再上台阶。', '不断改善城乡人居环境面貌更新。']);
  const a2022b = doc('a-2022b', '甲镇', [2022], ['同一年的另一份报告推进乡村振兴。']);
  const b = doc('b-2022', '乙镇', [2022], ['大力推进乡村全面振兴取得实效。', '营商环境持续优化企业满意度高。', '短句。']);
  const searchable = indexOf(
    [a2022, a2023, a2022b, b],
    [
      [unit(1, 0, 0), unit(0, 1, 0)],
      [unit(0.9, 0.1, 0), unit(0, 0, 1)],
      [unit(1, 0, 0)],
      [unit(0.95, 0.05, 0), unit(0.1, 0.9, 0), unit(1, 0, 0)],
    ],
  );

  it('takes other towns and the same town\'s other years, never the same report nor a report of the same years', () => {
    const { source, sentences } = findSimilarSentences(searchable, { chunkId: 'a-2022:0', start: 0, end: a2022.chunk.sentences[0]![1], k: 10 });
    expect(source.text).toBe('全面推进乡村振兴战略落地见效。');
    const found = sentences.map((s) => [s.docId, s.relation, s.text]);
    expect(found[0]).toEqual(['b-2022', 'other-town', '大力推进乡村全面振兴取得实效。']);
    expect(found).toContainEqual(['a-2023', 'other-year', '深入实施乡村振兴战略再上台阶。']);
    expect(sentences.some((s) => s.docId === 'a-2022' || s.docId === 'a-2022b')).toBe(false);
    // Fragments under eight characters are not offered.
    expect(sentences.some((s) => s.text === '短句。')).toBe(false);
  });

  it('compares with the mean of the sentences a span overlaps', () => {
    const second = findSimilarSentences(searchable, { chunkId: 'a-2022:0', start: a2022.chunk.sentences[1]![0], end: a2022.chunk.sentences[1]![1], k: 1 });
    expect(second.sentences[0]?.text).toBe('营商环境持续优化企业满意度高。');
  });

  it('keeps at most a quarter of k (at least two) from one report', () => {
    const { sentences } = findSimilarSentences(searchable, { chunkId: 'a-2023:0', k: 4 });
    const perDoc = new Map<string, number>();
    for (const s of sentences) perDoc.set(s.docId, (perDoc.get(s.docId) ?? 0) + 1);
    for (const n of perDoc.values()) expect(n).toBeLessThanOrEqual(2);
  });
});
