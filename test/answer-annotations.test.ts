/**
 * Sentence annotations are computed at ingest and stored with the index (derived records of kind
 * 'sentence-annotations', one per chunk): the store holds one per sentence, equal to what the
 * annotator says of that sentence now.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { annotateSentence } from '../src/annotate/sentence.js';
import type { SentenceAnnotation } from '../src/annotate/sentence.js';
import { loadIndex, type LoadedIndex } from '../src/index/store.js';
import { SENTENCE_ANNOTATIONS } from '../src/retrieve/derive.js';
import { openTestService, testIndexDir } from './services.js';

describe('the stored sentence annotations', () => {
  let index: LoadedIndex;
  /** The stored annotations in sentence-row order (chunk order, then sentence order). */
  let annotations: SentenceAnnotation[];
  beforeAll(async () => {
    const { embedder } = await openTestService();
    index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
    const byChunk = new Map(index.derived.filter((r) => r.kind === SENTENCE_ANNOTATIONS).map((r) => [r.key, r.value as SentenceAnnotation[]]));
    annotations = index.chunks.flatMap((c) => byChunk.get(c.id) ?? []);
  });

  it('hold one annotation per sentence, as the annotator reads it', () => {
    expect(annotations).toHaveLength(index.sentenceEmbeddings.length);
    const docs = new Map(index.documents.map((d) => [d.meta.docId, d]));
    index.chunks.slice(0, 20).forEach((chunk, row) => {
      chunk.sentences.forEach(([s, e], k) => {
        const doc = docs.get(chunk.docId)!;
        const fresh = annotateSentence(doc.text.slice(s, e), { role: chunk.role, sectionYears: chunk.years, sectionPath: chunk.sectionPath, reportYear: Number(doc.meta.date.slice(0, 4)) });
        expect(annotations[index.sentenceRows[row]! + k]).toEqual(fresh);
      });
    });
  });

  it('record 淀山湖镇’s 2020 target and 2019 estimate of 地区生产总值 as such', () => {
    const figures = annotations.flatMap((a) => a.figures.filter((f) => f.indicator === '地区生产总值').map((f) => ({ ...f, years: a.period.years })));
    expect(figures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ value: 107, unit: '亿元', stance: 'target', years: [2020] }),
        expect.objectContaining({ value: 105, unit: '亿元', stance: 'estimate', years: [2019] }),
      ]),
    );
  });
});
