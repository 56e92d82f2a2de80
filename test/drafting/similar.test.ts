/**
 * The mechanics of "how others put it" on a hand-made index (the shipped corpus has one report
 * per town, so the same town's other years need a second report): which reports count as other
 * towns or other years, the span's vector, the per-report cap. Vectors are hand-set unit vectors,
 * written as a generation of a real file store in a scratch folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annotateSentence } from '../../src/annotate/sentence.js';
import { findSimilarSentences } from '../../src/drafting/similar.js';
import { openIndexContext, type IndexContext } from '../../src/retrieve/context.js';
import { deriveRetrievalRecords } from '../../src/retrieve/derive.js';
import { createFileStore } from '../../src/store/file-store.js';
import { createTokenizer } from '../../src/text/tokenize.js';
import type { Chunk, ParsedDocument } from '../../src/domain/types.js';
import { buildKeywordIndex } from '../../src/index/lexical.js';

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

/** Writes the parts as a generation of a file store in a scratch folder (with retrieval's derived records) and opens its context. */
async function indexOf(parts: Array<{ doc: ParsedDocument; chunk: Chunk }>, vectors: Float32Array[][]): Promise<IndexContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'similar-'));
  dirs.push(dir);
  const store = createFileStore({ indexDir: dir, embeddingModel: 'hand-set', dimension: 3 });
  const writer = await store.beginGeneration({ embeddingModel: 'hand-set', dimension: 3, pipelineVersion: 'test' });
  const documents = parts.map((p) => p.doc);
  const chunks = parts.map((p) => p.chunk);
  await writer.writeDocuments(documents);
  await writer.writeChunks(parts.map((p, i) => ({ chunk: p.chunk, vector: vectors[i]![0]!, sentenceVectors: vectors[i]!, tokens: [] })));
  const sentenceAnnotations = chunks.map((c) => c.sentences.map(() => annotateSentence('', { role: c.role, sectionYears: c.years, sectionPath: c.sectionPath })));
  await writer.writeDerived(deriveRetrievalRecords({ documents, chunks, sentenceVectors: vectors, sentenceAnnotations, tokenizer: createTokenizer(), lexicon: [], keywords: buildKeywordIndex([]), embedder: undefined as never }));
  await writer.publish();
  return openIndexContext(await store.snapshot());
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('findSimilarSentences', () => {
  const a2022 = doc('a-2022', '甲镇', [2022], ['全面推进乡村振兴战略落地见效。', '持续优化营商环境提升服务水平。']);
  const a2023 = doc('a-2023', '甲镇', [2023], ['深入实施乡村振兴战略再上台阶。', '不断改善城乡人居环境面貌更新。']);
  const a2022b = doc('a-2022b', '甲镇', [2022], ['同一年的另一份报告推进乡村振兴。']);
  const b = doc('b-2022', '乙镇', [2022], ['大力推进乡村全面振兴取得实效。', '营商环境持续优化企业满意度高。', '短句。']);
  let searchable: IndexContext;
  beforeAll(async () => {
    searchable = await indexOf(
      [a2022, a2023, a2022b, b],
      [
        [unit(1, 0, 0), unit(0, 1, 0)],
        [unit(0.9, 0.1, 0), unit(0, 0, 1)],
        [unit(1, 0, 0)],
        [unit(0.95, 0.05, 0), unit(0.1, 0.9, 0), unit(1, 0, 0)],
      ],
    );
  });

  it('takes other towns and the same town\'s other years, never the same report nor a report of the same years', async () => {
    const { source, sentences } = await findSimilarSentences(searchable, { chunkId: 'a-2022:0', start: 0, end: a2022.chunk.sentences[0]![1], k: 10 });
    expect(source.text).toBe('全面推进乡村振兴战略落地见效。');
    const found = sentences.map((s) => [s.docId, s.relation, s.text]);
    expect(found[0]).toEqual(['b-2022', 'other-town', '大力推进乡村全面振兴取得实效。']);
    expect(found).toContainEqual(['a-2023', 'other-year', '深入实施乡村振兴战略再上台阶。']);
    expect(sentences.some((s) => s.docId === 'a-2022' || s.docId === 'a-2022b')).toBe(false);
    // Fragments under eight characters are not offered.
    expect(sentences.some((s) => s.text === '短句。')).toBe(false);
  });

  it('compares with the mean of the sentences a span overlaps', async () => {
    const second = await findSimilarSentences(searchable, { chunkId: 'a-2022:0', start: a2022.chunk.sentences[1]![0], end: a2022.chunk.sentences[1]![1], k: 1 });
    expect(second.sentences[0]?.text).toBe('营商环境持续优化企业满意度高。');
  });

  it('keeps at most a quarter of k (at least two) from one report', async () => {
    const { sentences } = await findSimilarSentences(searchable, { chunkId: 'a-2023:0', k: 4 });
    const perDoc = new Map<string, number>();
    for (const s of sentences) perDoc.set(s.docId, (perDoc.get(s.docId) ?? 0) + 1);
    for (const n of perDoc.values()) expect(n).toBeLessThanOrEqual(2);
  });
});
