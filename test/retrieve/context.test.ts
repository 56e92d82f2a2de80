/**
 * The read context over the real test index's snapshot: built from store reads only, it agrees
 * with the index files, and the town facts derived at ingest follow their rules (fast-check).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadIndex, type LoadedIndex } from '../../src/index/store.js';
import { allChunkIds, openIndexContext, type IndexContext } from '../../src/retrieve/context.js';
import { townFactsOf } from '../../src/retrieve/derive.js';
import type { ParsedDocument } from '../../src/domain/types.js';
import { openSnapshot, openTestService, testIndexDir } from '../services.js';

let index: LoadedIndex;
let context: IndexContext;

beforeAll(async () => {
  const { embedder } = await openTestService();
  index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  context = await openIndexContext(await openSnapshot(testIndexDir(), embedder));
});

describe('openIndexContext', () => {
  it('holds the documents (metadata only: no outline, no text), towns, chunk counts and chunk order of the index files', async () => {
    expect([...context.documents.values()]).toEqual(index.documents.map((d) => d.meta));
    expect(context.towns).toEqual([...new Set(index.documents.map((d) => d.meta.town))]);
    expect(await allChunkIds(context)).toEqual(index.chunks.map((c) => c.id));
    // Ingest order, told by document and start offset alone: strictly increasing over the rows.
    const orders = index.chunks.map((c) => context.orderOf(c));
    orders.forEach((o, row) => row > 0 && expect(o).toBeGreaterThan(orders[row - 1]!));
    for (const d of index.documents) {
      const own = index.chunks.filter((c) => c.docId === d.meta.docId);
      expect(context.chunkCountOf(d.meta.docId)).toBe(own.length);
      expect(await context.chunkSpansOf(d.meta.docId)).toEqual(own.map((c) => ({ id: c.id, start: c.start, end: c.end })));
    }
    expect(await context.chunkSpansOf('no-such-doc')).toEqual([]);
  });

  it('reads each town\'s latest report year and the years its reports cover or mention', () => {
    for (const town of context.towns) {
      const docs = index.documents.filter((d) => d.meta.town === town);
      const facts = context.townFacts.get(town)!;
      expect(facts.reportYear).toBe(Math.max(...docs.map((d) => Number(d.meta.date.slice(0, 4)))));
      expect(new Set(facts.coveredYears)).toEqual(new Set(docs.flatMap((d) => d.meta.years)));
      for (const y of facts.coveredYears) expect(facts.years).toContain(y);
    }
  });
});

describe('townFactsOf', () => {
  const docArb = fc.record({
    town: fc.constantFrom('甲镇', '乙镇', '丙镇'),
    years: fc.uniqueArray(fc.integer({ min: 2015, max: 2025 }), { maxLength: 3 }),
    date: fc.integer({ min: 2015, max: 2025 }).map(String),
    mentioned: fc.array(fc.integer({ min: 1990, max: 2030 }), { maxLength: 4 }),
  });

  it('keeps every covered and mentioned year, and the latest report year, per town', () => {
    fc.assert(
      fc.property(fc.array(docArb, { maxLength: 6 }), (docs) => {
        const documents = docs.map((d, i) => ({ meta: { docId: `d${i}`, town: d.town, years: d.years, date: d.date }, text: d.mentioned.map((y) => `${y}年,`).join('') })) as unknown as ParsedDocument[];
        const facts = townFactsOf(documents);
        for (const d of docs) {
          const f = facts.get(d.town)!;
          for (const y of d.years) expect(f.coveredYears).toContain(y);
          for (const y of [...d.years, ...d.mentioned]) expect(f.years).toContain(y);
          expect(f.reportYear).toBe(Math.max(...docs.filter((x) => x.town === d.town).map((x) => Number(x.date))));
        }
        expect([...facts.keys()].sort()).toEqual([...new Set(docs.map((d) => d.town))].sort());
      }),
    );
  });
});
