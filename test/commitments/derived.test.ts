/**
 * What ingest stores for the commitments feature (src/commitments/derive.ts and the suggestion
 * check of src/qa/suggestions.ts) against a reference computed afresh from the same index of
 * the shipped corpus: the commitment book, the candidate questions, and the checked suggestions
 * (each candidate asked of a live service over the loaded index).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { answeredFrom, pickSuggestions, SUGGESTION_ANSWERS_KIND, SUGGESTIONS_KIND, type SuggestionAnswer } from '../../src/qa/suggestions.js';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../../src/qa/service.js';
import { COMMITMENTS_KIND, readCommitmentBook, RESULTS_KIND } from '../../src/commitments/book.js';
import { SUGGESTION_CANDIDATES_KIND } from '../../src/commitments/derive.js';
import { suggestionCandidates, type Suggestion, type SuggestionCandidate } from '../../src/commitments/suggestion-candidates.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { loadIndex, type LoadedIndex } from '../../src/index/store.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { openTestService, testIndexDir } from '../services.js';
import { freshBookOf } from './fresh-book.js';

let index: LoadedIndex;
let embedder: Embedder;
let service: QaService;

beforeAll(async () => {
  const opened = await openTestService();
  embedder = opened.embedder;
  index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  service = await createQaService(snapshotOfLoadedIndex(index), embedder, { defaultTopK: opened.config.defaultTopK, threshold: DEFAULT_THRESHOLD });
});

const kindOf = (kind: string) => index.derived.filter((r) => r.kind === kind);

describe('the stored commitment book', () => {
  it('equals the book computed afresh from the index’s documents, chunks, sentence vectors and term weights', async () => {
    const stored = await readCommitmentBook(snapshotOfLoadedIndex(index));
    expect(stored.commitments.length).toBeGreaterThan(300);
    expect(stored.results.length).toBeGreaterThan(300);
    const fresh = JSON.parse(JSON.stringify(await freshBookOf(index, embedder)));
    expect(fresh).toEqual({ commitments: stored.commitments, results: stored.results, followUps: [...stored.followUps] });
  });

  it('keeps one record per commitment and per result, keyed by its id, every commitment with a topic and a cited chunk', () => {
    const commitments = kindOf(COMMITMENTS_KIND);
    expect(commitments.every((r) => r.key === (r.value as { commitment: { id: string } }).commitment.id)).toBe(true);
    expect(new Set(commitments.map((r) => r.key)).size).toBe(commitments.length);
    const chunkIds = new Set(index.chunks.map((c) => c.id));
    for (const { value } of commitments) {
      const { commitment } = value as { commitment: { topic: string; chunkId?: string } };
      expect(commitment.topic).toEqual(expect.any(String));
      expect(chunkIds.has(commitment.chunkId ?? '')).toBe(true);
    }
    expect(kindOf(RESULTS_KIND).length).toBeGreaterThan(0);
  });

  it('is refused, with what to run, by an index that stores none (written before the book was) or only part of it', async () => {
    const without = snapshotOfLoadedIndex({ ...index, derived: index.derived.filter((r) => !r.kind.startsWith('commitment')) });
    await expect(readCommitmentBook(without)).rejects.toMatchObject({ code: 'E_INDEX_MISMATCH', message: expect.stringContaining('npm run ingest') });
    let dropped = false;
    const partial = snapshotOfLoadedIndex({ ...index, derived: index.derived.filter((r) => r.kind !== COMMITMENTS_KIND || dropped || !(dropped = true)) });
    await expect(readCommitmentBook(partial)).rejects.toMatchObject({ code: 'E_INDEX_CORRUPT' });
  });
});

describe('the stored suggestions', () => {
  it('hold the candidates of every town, as suggestionCandidates reads them from the documents', () => {
    const stored = kindOf(SUGGESTION_CANDIDATES_KIND).flatMap((r) => r.value as SuggestionCandidate[]);
    const fresh = suggestionCandidates(index.documents.map((d) => ({ town: d.meta.town, years: d.meta.years, text: d.text, sections: d.sections })));
    expect(stored).toEqual(fresh);
    expect(new Set(stored.map((c) => c.town))).toEqual(new Set(index.documents.map((d) => d.meta.town)));
  });

  it('hold, for every candidate, the passage a live service over the loaded index answers it from, and the suggestions picked from those', async () => {
    for (const { key: town, value } of kindOf(SUGGESTION_CANDIDATES_KIND)) {
      const candidates = value as SuggestionCandidate[];
      const live: SuggestionAnswer[] = [];
      for (const c of candidates) live.push({ question: c.question, chunkId: await answeredFrom(service, c) });
      expect(kindOf(SUGGESTION_ANSWERS_KIND).find((r) => r.key === town)?.value, town).toEqual(live);
      const suggestions = kindOf(SUGGESTIONS_KIND).find((r) => r.key === town)?.value as Suggestion[];
      expect(suggestions, town).toEqual(pickSuggestions(town, live));
      expect(suggestions.length, town).toBeGreaterThan(0);
    }
  });
});
