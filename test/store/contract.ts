/**
 * The contract every IndexStore implementation passes (as unstorage's testDriver): one function
 * generates the suite; each implementation's test file calls it with a harness whose store starts
 * with a copy of the real test index (test/global-setup.ts: real corpus, real model). Results are
 * compared with today's functions on the same index: hnswlib and the exact per-town search for
 * vectors, searchKeywordIndex for BM25.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createEmbedder, type Embedder } from '../../src/embed/embedder.js';
import { idf, searchKeywordIndex, type ScoredIndex } from '../../src/index/lexical.js';
import { loadIndex, readManifest, type LoadedIndex } from '../../src/index/store.js';
import { analyzeQuery } from '../../src/retrieve/query.js';
import { tokensFromPostings } from '../../src/store/import.js';
import type { ChunkHit, ChunkRecord, IndexSnapshot, IndexStore, StoreFilters } from '../../src/store/index-store.js';
import { dotProduct, passesFilters } from '../../src/store/shared.js';
import { createTokenizer, type Tokenizer } from '../../src/text/tokenize.js';
import type { Role } from '../../src/domain/types.js';
import { testIndexDir } from '../services.js';

/** What an implementation's test file provides. */
export interface StoreHarness {
  /** A new store instance over the harness's backing data (another replica, so to speak). */
  open(): Promise<IndexStore>;
  /** Damages the published generation at rest (a file's bytes, a table's rows). */
  damage(): Promise<void>;
  /** Removes the backing data and stops what the harness started. */
  dispose(): Promise<void>;
}

/** The reference: today's index, loaded as the query side loads it, and what is derived from it. */
export interface Reference {
  index: LoadedIndex;
  embedder: Embedder;
  tokenizer: Tokenizer;
  questions: Array<{ question: string; vector: Float32Array; tokens: string[]; towns: string[] }>;
  towns: string[];
  years: number[];
}

let reference: Promise<Reference> | undefined;

/** Loads the reference once per test file. */
export function loadReference(): Promise<Reference> {
  reference ??= (async () => {
    const config = loadConfig({ ...process.env, INDEX_DIR: testIndexDir() });
    const embedder = await createEmbedder({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction });
    const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
    const tokenizer = createTokenizer(index.lexicon);
    const towns = [...new Set(index.chunks.map((c) => c.town))];
    const years = [...new Set(index.chunks.flatMap((c) => c.years))].sort();
    const lines = fs.readFileSync(config.evalFile, 'utf8').split('\n').filter((l) => l.trim());
    const questions = [];
    for (const line of lines) {
      const { question } = JSON.parse(line) as { question: string };
      questions.push({ question, vector: await embedder.embedQuery(question), tokens: tokenizer.tokenize(question), towns: analyzeQuery(question, towns, tokenizer.segmenter).towns });
    }
    return { index, embedder, tokenizer, questions, towns, years };
  })();
  return reference;
}

const hits = (index: LoadedIndex, list: ScoredIndex[]): ChunkHit[] => list.map((h) => ({ chunkId: index.chunks[h.index]!.id, score: h.score }));

/** Today's dense search: hnswlib under the filter, or exact within named towns (retrieve/hybrid.ts). */
function referenceDense(ref: Reference, vector: Float32Array, k: number, filters: StoreFilters = {}): ChunkHit[] {
  const { index } = ref;
  const accept = (row: number): boolean => passesFilters(index.chunks[row]!, filters);
  if (!filters.towns?.length) return hits(index, index.vectors.search(vector, k, accept));
  const rows = index.chunks.flatMap((_, row) => (accept(row) ? [row] : []));
  return hits(
    index,
    rows
      .map((row) => ({ index: row, score: dotProduct(vector, index.embeddings[row]!) }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, k),
  );
}

/** Every sentence of the accepted chunks compared with the vector, best first (ties: chunk row, then sentence). */
function referenceSentences(ref: Reference, vector: Float32Array, k: number, filters: StoreFilters = {}) {
  const { index } = ref;
  const all: Array<{ chunkId: string; sentence: number; score: number; row: number }> = [];
  index.chunks.forEach((chunk, row) => {
    if (!passesFilters(chunk, filters)) return;
    chunk.sentences.forEach((_, s) => all.push({ chunkId: chunk.id, sentence: s, row, score: dotProduct(vector, index.sentenceEmbeddings[index.sentenceRows[row]! + s]!) }));
  });
  return all.sort((a, b) => b.score - a.score || a.row - b.row || a.sentence - b.sentence).slice(0, k);
}

/**
 * Same ranking up to float rounding: the same length, scores equal within `tolerance` at every
 * rank, and ids equal wherever the neighbours' scores are not within tolerance (a near-tie may
 * come in either order when a server computes the cosine in single precision).
 */
function expectSameRanking<T extends { score: number }>(actual: T[], expected: T[], idOf: (t: T) => string, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    expect(Math.abs(a.score - e.score), `score at rank ${i}`).toBeLessThanOrEqual(tolerance);
    if (idOf(a) !== idOf(e)) {
      const tied = expected.filter((x) => Math.abs(x.score - e.score) <= tolerance).map(idOf);
      expect(tied, `rank ${i}: ${idOf(a)} instead of ${idOf(e)} without a near-tie`).toContain(idOf(a));
    }
  });
  expect(new Set(actual.map(idOf))).toEqual(new Set(expected.map(idOf)));
}

/** Filters to try: each kind alone, and combined. */
function filterCases(ref: Reference): Array<{ name: string; filters: StoreFilters }> {
  const roles: Role[] = ['review', 'plan'];
  return [
    { name: 'no filter', filters: {} },
    ...ref.towns.slice(0, 3).map((town) => ({ name: `town ${town}`, filters: { towns: [town] } })),
    { name: 'two towns', filters: { towns: ref.towns.slice(0, 2) } },
    ...roles.map((role) => ({ name: `role ${role}`, filters: { role } })),
    ...ref.years.slice(0, 2).map((year) => ({ name: `year ${year}`, filters: { year } })),
    { name: 'town, role and year', filters: { towns: [ref.towns[0]!], role: 'plan' as Role, year: ref.years.at(-1)! } },
    { name: 'a town not in the corpus', filters: { towns: ['不存在镇'] } },
  ];
}

/** A chunk record of the reference index, as a writer takes it. */
function recordsOf(ref: Reference, rows: number[]): ChunkRecord[] {
  const tokens = tokensFromPostings(ref.index);
  return rows.map((row) => {
    const chunk = ref.index.chunks[row]!;
    const first = ref.index.sentenceRows[row]!;
    return { chunk, vector: ref.index.embeddings[row]!, sentenceVectors: ref.index.sentenceEmbeddings.slice(first, first + chunk.sentences.length), tokens: tokens[row]! };
  });
}

/** Writes rows of the reference as a new generation; returns the writer unpublished. */
async function writeGeneration(ref: Reference, store: IndexStore, rows: number[], id: string) {
  const { manifest } = ref.index;
  const writer = await store.beginGeneration({ id, embeddingModel: manifest.embeddingModel, dimension: manifest.dimension, pipelineVersion: manifest.pipelineVersion });
  const docIds = new Set(rows.map((r) => ref.index.chunks[r]!.docId));
  await writer.writeDocuments(ref.index.documents.filter((d) => docIds.has(d.meta.docId)));
  const records = recordsOf(ref, rows);
  // Two batches, as a streaming ingest would.
  await writer.writeChunks(records.slice(0, Math.ceil(records.length / 2)));
  await writer.writeChunks(records.slice(Math.ceil(records.length / 2)));
  await writer.writeLexicon(ref.index.lexicon);
  return writer;
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ code });
}

/**
 * Generates the contract suite for one implementation. `makeHarness` is called once; its store
 * must start with the test index's generation published.
 */
export function describeIndexStore(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`IndexStore contract: ${name}`, () => {
    let ref: Reference;
    let harness: StoreHarness;
    let store: IndexStore;
    let snap: IndexSnapshot;

    beforeAll(async () => {
      ref = await loadReference();
      harness = await makeHarness();
      store = await harness.open();
      snap = await store.snapshot();
    });
    afterAll(async () => {
      await store?.close();
      await harness?.dispose();
    });

    describe('reading the published generation', () => {
      it('serves the generation of the test index, with its counts', async () => {
        const { manifest } = ref.index;
        expect(await store.publishedGeneration()).toBe(manifest.indexVersion);
        expect(snap.generation).toMatchObject({
          id: manifest.indexVersion,
          embeddingModel: manifest.embeddingModel,
          dimension: manifest.dimension,
          documents: ref.index.documents.length,
          chunks: ref.index.chunks.length,
          sentences: ref.index.sentenceEmbeddings.length,
        });
      });

      it('returns documents, chunks and lexicon equal to the index files', async () => {
        expect(await snap.listDocuments()).toEqual(ref.index.documents.map((d) => d.meta));
        const ids = ref.index.documents.map((d) => d.meta.docId);
        expect(await snap.getDocuments([...ids, 'no-such-doc'])).toEqual([...ref.index.documents, undefined]);
        const chunkIds = ref.index.chunks.map((c) => c.id).reverse();
        expect(await snap.getChunks([...chunkIds, 'no-such-chunk'])).toEqual([...[...ref.index.chunks].reverse(), undefined]);
        expect(await snap.lexicon()).toEqual(ref.index.lexicon);
      });

      it('returns chunk and sentence vectors equal to the index files, by chunk id', async () => {
        const rows = [0, 1, Math.floor(ref.index.chunks.length / 2), ref.index.chunks.length - 1];
        const ids = rows.map((r) => ref.index.chunks[r]!.id);
        expect(await snap.getChunkVectors([...ids, 'no-such-chunk'])).toEqual([...rows.map((r) => ref.index.embeddings[r]), undefined]);
        const sentences = await snap.getSentenceVectors([...ids, 'no-such-chunk']);
        expect([...sentences.keys()]).toEqual(ids);
        rows.forEach((row, i) => {
          const first = ref.index.sentenceRows[row]!;
          expect(sentences.get(ids[i]!)).toEqual(ref.index.sentenceEmbeddings.slice(first, first + ref.index.chunks[row]!.sentences.length));
        });
      });

      it("scores each candidate chunk's sentences against a query vector as a dot product with the stored vectors", async () => {
        for (const q of ref.questions.slice(0, 10)) {
          const rows = referenceDense(ref, q.vector, 40).map((h) => ref.index.chunks.findIndex((c) => c.id === h.chunkId));
          const ids = rows.map((r) => ref.index.chunks[r]!.id);
          const scores = await snap.scoreSentences(q.vector, [...ids, 'no-such-chunk']);
          expect([...scores.keys()]).toEqual(ids);
          rows.forEach((row, i) => {
            const first = ref.index.sentenceRows[row]!;
            const expected = ref.index.chunks[row]!.sentences.map((_, k) => dotProduct(q.vector, ref.index.sentenceEmbeddings[first + k]!));
            const actual = scores.get(ids[i]!)!;
            expect(actual.length).toBe(expected.length);
            actual.forEach((score, k) => expect(Math.abs(score - expected[k]!)).toBeLessThanOrEqual(1e-5));
          });
        }
      });

      it('ranks chunks by vector as today (hnswlib, exact within towns) for every dev question and filter', async () => {
        for (const q of ref.questions) {
          for (const { name: filter, filters } of filterCases(ref)) {
            const actual = await snap.searchChunks(q.vector, 40, filters);
            expect(actual.every((h) => passesFilters(ref.index.chunks.find((c) => c.id === h.chunkId)!, filters)), filter).toBe(true);
            expectSameRanking(actual, referenceDense(ref, q.vector, 40, filters), (h) => h.chunkId, 1e-5);
          }
          // The question's own towns, as retrieval passes them.
          if (q.towns.length) expectSameRanking(await snap.searchChunks(q.vector, 40, { towns: q.towns }), referenceDense(ref, q.vector, 40, { towns: q.towns }), (h) => h.chunkId, 1e-5);
        }
      });

      it('ranks sentences by vector as an exact comparison with every sentence, under each filter', async () => {
        for (const q of ref.questions.slice(0, 10)) {
          for (const { filters } of filterCases(ref)) {
            const actual = await snap.searchSentences(q.vector, 30, filters);
            expectSameRanking(actual, referenceSentences(ref, q.vector, 30, filters), (h) => `${h.chunkId}#${h.sentence}`, 1e-5);
          }
        }
      });

      it('ranks chunks by BM25 exactly as searchKeywordIndex (same scores, same order) under each filter', async () => {
        for (const q of ref.questions) {
          for (const { filters } of filterCases(ref)) {
            const expected = hits(ref.index, searchKeywordIndex(ref.index.keywords, q.tokens, 40, (row) => passesFilters(ref.index.chunks[row]!, filters)));
            expect(await snap.searchKeywords(q.tokens, 40, filters)).toEqual(expected);
          }
        }
        expect(await snap.searchKeywords([], 10)).toEqual([]);
        expect(await snap.searchKeywords(['constructor', '不存在的词'], 10)).toEqual([]);
      });

      it('finds a phrase as written: counted from the left without overlaps, most first, then in ingest order, under each filter', async () => {
        // '00' and '000' stand in numbers like 10000 (two and one without overlaps, three and two
        // with); '%' and a quote are matched literally, not as patterns or SQL.
        const phrases = ['镇', '建设', '00', '000', '%', '2022年', "'", '不存在的短语'];
        for (const phrase of phrases) {
          for (const { name, filters } of filterCases(ref)) {
            const expected = ref.index.chunks
              .map((chunk, row) => ({ row, chunk, score: chunk.text.split(phrase).length - 1 }))
              .filter((h) => h.score > 0 && passesFilters(h.chunk, filters))
              .sort((a, b) => b.score - a.score || a.row - b.row)
              .slice(0, 25)
              .map((h) => ({ chunkId: h.chunk.id, score: h.score }));
            expect(await snap.findPhrase(phrase, 25, filters), `${phrase}, ${name}`).toEqual(expected);
          }
        }
        expect((await snap.findPhrase('镇', 25)).length).toBe(25);
        expect((await snap.findPhrase('000', 1000)).some((h) => h.score > 0)).toBe(true);
        expect(await snap.findPhrase('', 10)).toEqual([]);
        expect(await snap.findPhrase('镇', 0)).toEqual([]);
      });

      it('gives term statistics equal to the keyword index', async () => {
        const terms = [...new Set(ref.questions.flatMap((q) => q.tokens)), 'constructor'];
        const stats = await snap.termStats(terms);
        expect(stats.chunkCount).toBe(ref.index.chunks.length);
        expect(stats.averageLength).toBe(ref.index.keywords.averageLength);
        for (const term of terms) {
          const postings = Object.hasOwn(ref.index.keywords.postings, term) ? ref.index.keywords.postings[term]! : [];
          expect(stats.terms[term]).toEqual({ df: postings.length / 2, idf: idf(ref.index.keywords, term) });
        }
      });
      it('counts, when asked, the chunks of each town that hold a term, as the keyword index has them', async () => {
        const terms = [...new Set(ref.questions.flatMap((q) => q.tokens)), '不存在的词', 'constructor'];
        const stats = await snap.termStats(terms, { byTown: true });
        expect(stats.chunkCount).toBe(ref.index.chunks.length);
        for (const term of terms) {
          const postings = Object.hasOwn(ref.index.keywords.postings, term) ? ref.index.keywords.postings[term]! : [];
          const towns: Record<string, number> = {};
          for (let i = 0; i < postings.length; i += 2) {
            const town = ref.index.chunks[postings[i]!]!.town;
            towns[town] = (towns[town] ?? 0) + 1;
          }
          expect(stats.terms[term], term).toEqual({ df: postings.length / 2, idf: idf(ref.index.keywords, term), towns });
        }
        // A term of one town only is absent from the others.
        const local = terms.find((t) => Object.keys(stats.terms[t]!.towns!).length === 1);
        expect(local).toBeDefined();
      });

      it('counts only the towns asked for, when named (none for an empty list)', async () => {
        const terms = [...new Set(ref.questions.flatMap((q) => q.tokens)), '不存在的词'];
        const all = await snap.termStats(terms, { byTown: true });
        const town = ref.index.chunks[0]!.town;
        const other = ref.index.chunks.find((c) => c.town !== town)!.town;
        for (const towns of [[town], [town, other], []]) {
          const some = await snap.termStats(terms, { byTown: true, towns });
          for (const term of terms) {
            const expected = Object.fromEntries(Object.entries(all.terms[term]!.towns!).filter(([t]) => towns.includes(t)));
            expect(some.terms[term], `${term} in ${towns.join(',')}`).toEqual({ ...all.terms[term]!, towns: expected });
          }
        }
        // The counts differ between towns for some term: the restriction is not a no-op.
        expect(terms.some((t) => Object.keys(all.terms[t]!.towns!).some((k) => k !== town))).toBe(true);
      });

      it("serves retrieval's records derived at ingest, as the index files hold them", async () => {
        const some = [ref.index.chunks[0]!.id, ref.index.chunks.at(-1)!.id];
        for (const kind of ['sentence-tokens', 'sentence-annotations', 'town-facts', 'document-chunks', 'indicators']) {
          const expected = ref.index.derived.filter((r) => r.kind === kind);
          expect(expected.length, kind).toBeGreaterThan(0);
          expect(await snap.getDerived(kind)).toEqual(expected);
        }
        expect(await snap.getDerived('sentence-tokens', [...some, 'no-such-chunk'])).toEqual(some.map((id) => ref.index.derived.find((r) => r.kind === 'sentence-tokens' && r.key === id)));
      });
    });

    describe('writing generations', () => {
      /** The rows of one town: a smaller generation, easy to tell from the full one. */
      let townRows: number[];
      const genB = `gen-contract-b-${process.pid}`;
      const genD = `gen-contract-d-${process.pid}`;

      beforeAll(() => {
        townRows = ref.index.chunks.flatMap((c, row) => (c.town === ref.towns[0] ? [row] : []));
      });

      it('publishes a new generation with derived records; snapshots taken before keep reading the old one; watchers hear of it', async () => {
        const before = snap;
        const replica = await harness.open();
        const heard: string[] = [];
        const stop = replica.watch((id) => heard.push(id), { intervalMs: 50, since: ref.index.manifest.indexVersion });
        try {
          const writer = await writeGeneration(ref, store, townRows, genB);
          await writer.writeDerived([
            { kind: 'suggestions', key: 'b', value: { question: '问题乙', town: ref.towns[0] } },
            { kind: 'suggestions', key: 'a', value: { question: '问题甲', n: [1, 2.5, null] } },
            { kind: 'suggestions', key: 'b', value: { question: '问题乙(改)', town: ref.towns[0] } },
            { kind: 'sentence-annotations', key: ref.index.chunks[townRows[0]!]!.id, value: [{ sentence: 0, period: 'plan' }] },
          ]);
          expect(await store.publishedGeneration()).toBe(ref.index.manifest.indexVersion);
          const info = await writer.publish();
          expect(info).toMatchObject({ id: genB, chunks: townRows.length });
          expect(await store.publishedGeneration()).toBe(genB);
          const after = await store.snapshot();
          expect(after.generation.id).toBe(genB);
          expect((await after.listDocuments()).every((d) => d.town === ref.towns[0])).toBe(true);
          expect(await after.getDerived('suggestions')).toEqual([
            { kind: 'suggestions', key: 'b', value: { question: '问题乙(改)', town: ref.towns[0] } },
            { kind: 'suggestions', key: 'a', value: { question: '问题甲', n: [1, 2.5, null] } },
          ]);
          expect(await after.getDerived('suggestions', ['a', 'zzz'])).toEqual([{ kind: 'suggestions', key: 'a', value: { question: '问题甲', n: [1, 2.5, null] } }]);
          expect(await after.getDerived('no-such-kind')).toEqual([]);
          // The earlier snapshot still answers from the full generation.
          const other = ref.index.chunks.find((c) => c.town !== ref.towns[0])!;
          expect(await before.getChunks([other.id])).toEqual([other]);
          expect(await after.getChunks([other.id])).toEqual([undefined]);
          await waitFor(() => heard.includes(genB), 'the watcher to report the new generation');
          expect((await replica.snapshot()).generation.id).toBe(genB);
        } finally {
          stop();
          await replica.close();
        }
      });

      it('aborting a generation leaves the published one serving and lets the next writer begin', async () => {
        const writer = await writeGeneration(ref, store, [0, 1, 2], `gen-contract-c-${process.pid}`);
        await writer.abort();
        expect(await store.publishedGeneration()).toBe(genB);
        const replica = await harness.open();
        try {
          expect((await replica.snapshot()).generation.id).toBe(genB);
          const next = await replica.beginGeneration({ embeddingModel: 'm', dimension: 512, pipelineVersion: 'p' });
          await next.abort();
        } finally {
          await replica.close();
        }
      });

      it('refuses to publish a generation that is not whole, and the published one stays', async () => {
        const { manifest } = ref.index;
        const meta = { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension, pipelineVersion: manifest.pipelineVersion };
        // A chunk whose document was never written.
        const orphan = await store.beginGeneration(meta);
        await orphan.writeChunks(recordsOf(ref, [0]));
        await expectCode(orphan.publish(), 'E_INDEX_CORRUPT');
        // Sentence vectors that do not match the chunk's sentences.
        const short = await store.beginGeneration(meta);
        const [record] = recordsOf(ref, [0]);
        await short.writeDocuments(ref.index.documents.filter((d) => d.meta.docId === record!.chunk.docId));
        await short.writeChunks([{ ...record!, sentenceVectors: record!.sentenceVectors.slice(1) }]);
        await expectCode(short.publish(), 'E_INDEX_CORRUPT');
        expect(await store.publishedGeneration()).toBe(genB);
        expect((await store.snapshot()).generation.id).toBe(genB);
      });

      it('a reader during a publish sees the old generation or the new one, never a mix', async () => {
        const reader = await harness.open();
        const allIds = new Set(ref.index.chunks.map((c) => c.id));
        const townIds = new Set(townRows.map((r) => ref.index.chunks[r]!.id));
        const expected: Record<string, { documents: number; ids: Set<string> }> = {
          [genB]: { documents: new Set(townRows.map((r) => ref.index.chunks[r]!.docId)).size, ids: townIds },
          [genD]: { documents: ref.index.documents.length, ids: allIds },
        };
        const seen = new Set<string>();
        let publishing = true;
        let readsAfter = 0;
        const q = ref.questions[0]!;
        const readLoop = (async () => {
          while (publishing || readsAfter < 3) {
            if (!publishing) readsAfter++;
            const s = await reader.snapshot();
            const want = expected[s.generation.id];
            expect(want, `unexpected generation ${s.generation.id}`).toBeDefined();
            seen.add(s.generation.id);
            const [docs, dense, lexical] = await Promise.all([s.listDocuments(), s.searchChunks(q.vector, 20), s.searchKeywords(q.tokens, 20)]);
            expect(docs.length).toBe(want!.documents);
            for (const h of [...dense, ...lexical]) expect(want!.ids.has(h.chunkId), `${h.chunkId} in ${s.generation.id}`).toBe(true);
            expect(dense.length).toBe(Math.min(20, want!.ids.size));
          }
        })();
        try {
          const all = ref.index.chunks.map((_, row) => row);
          const writer = await writeGeneration(ref, store, all, genD);
          await writer.publish();
        } finally {
          publishing = false;
        }
        await readLoop;
        // Reads ran on both sides of the switch.
        expect([...seen].sort()).toEqual([genB, genD].sort());
        await reader.close();
      });

      it('refuses a published generation damaged at rest', async () => {
        await harness.damage();
        const fresh = await harness.open();
        try {
          await expectCode(fresh.snapshot(), 'E_INDEX_CORRUPT');
        } finally {
          await fresh.close();
        }
      });
    });
  });
}

/** The live generation's folder name of a file index (for harnesses that damage files). */
export function publishedFolder(indexDir: string): string {
  const manifest = readManifest(indexDir);
  if (!manifest) throw new Error(`no index in ${indexDir}`);
  return manifest.indexVersion;
}
