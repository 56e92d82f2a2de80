/**
 * Hybrid retrieval: dense (cosine) and BM25 candidates from the index store, fused by reciprocal
 * rank fusion, under the caller's filters and the question's own hints. A town named in the
 * question narrows the search to that town; a year or a plan/result wording boosts matching
 * sections. The store applies the filters; the candidates' chunks, sentence similarities and (for
 * the returned passages) sentence annotations, tokens and term statistics come in a few batched
 * reads, so that a Retrieval is plain data the extractive composer reads without the store.
 */
import { nextTurn } from '../turns.js';
import { annotateQuestion, topicsOf, type QuestionAnnotation, type Topic } from '../annotate/question.js';
import type { SentenceAnnotation } from '../annotate/sentence.js';
import type { Embedder } from '../embed/embedder.js';
import { dotProduct } from '../store/shared.js';
import type { Chunk, Passage, SearchFilters } from '../domain/types.js';
import { chunkText, storeFiltersOf, termTableOf, toPassage, type IndexContext, type TermTable } from './context.js';
import { SENTENCE_ANNOTATIONS, SENTENCE_TOKENS } from './derive.js';
import { analyzeQuery, focusOf, type QueryAnalysis } from './query.js';

export interface RetrieveOptions {
  /** Passages returned. */
  topK: number;
  filters?: SearchFilters;
  /** Candidates taken from each retriever before fusion. Default 40. */
  candidates?: number;
  /** Use the question's own town/year/intent hints. Default true. */
  useHints?: boolean;
  /**
   * Fetch what an answer is composed from (each returned passage's sentence annotations and
   * tokens, the question's term statistics). Default true; a plain search needs none of it.
   */
  evidence?: boolean;
  /**
   * The question's embedding from an earlier retrieval of the same question (`Retrieval.queryVector`):
   * a second search of it, over other towns, needs no second forward pass.
   */
  queryVector?: Float32Array;
  /**
   * Sentence similarities to that same vector from the earlier retrieval, by chunk id (its
   * `ranked`): those chunks are not scored again. Scores depend on the vector and the chunk only.
   */
  knownSentenceScores?: ReadonlyMap<string, number[]>;
}

/** What the store holds about the sentences of one returned passage (fetched with `evidence`). */
export interface SentenceEvidence {
  /** Period, stance and figures of each sentence (computed at ingest). */
  annotations: SentenceAnnotation[];
  /** Keyword tokens of each sentence (computed at ingest). */
  tokens: string[][];
}

/** A fused candidate with the evidence retrieval has about it. */
export interface ScoredChunk {
  chunk: Chunk;
  /** The chunk's place in the corpus (IndexContext.orderOf): ties rank by it. */
  order: number;
  fused: number;
  /** Cosine similarity of chunk and question (0 when only BM25 found it). */
  dense: number;
  bm25: number;
  /** Cosine similarity of the question's focus with each of the chunk's sentences. */
  sentenceScores: number[];
  /** For the returned passages, when retrieval fetched evidence. */
  sentences?: SentenceEvidence;
}

export interface Retrieval {
  question: string;
  /** Embedding of the question without the town and year it names (see focusOf). */
  queryVector: Float32Array;
  /** Towns the search was restricted to (by filter or by the question); empty for all. */
  scopeTowns: string[];
  analysis: QueryAnalysis;
  /** The question annotated against the index (今年/去年 against each town's latest report). */
  annotation: QuestionAnnotation;
  queryTokens: string[];
  ranked: ScoredChunk[];
  passages: Passage[];
  /**
   * Statistics (document frequency, idf, per-town presence) of the question's tokens and of the
   * words of its topics; empty without `evidence`.
   */
  terms: TermTable;
  /** The nouns of the question's indicator (topicsOf); empty without `evidence`. */
  topics: Topic[];
}

/** RRF constant: ranks beyond a few dozen contribute little; 60 is the customary value. */
const RRF_K = 60;
const ROLE_BOOST = 1.15;
const YEAR_BOOST = 1.15;
/** Weight of the best-sentence ranking in the fusion, relative to dense and BM25 (1 each). */
const SENTENCE_WEIGHT = 1;

/** Wording of a scheduled or promised action, which a review section also uses (二期计划9月底前竣工). */
const PLANNED = /计划|将|拟|力争|确保|预计|年内|月底前/;

/** The question annotated with the index's towns and their report years. */
export function annotationOf(context: Pick<IndexContext, 'towns' | 'townFacts' | 'tokenizer'>, question: string): QuestionAnnotation {
  return annotateQuestion(question, { knownTowns: context.towns, segmenter: context.tokenizer.segmenter, reportYearOf: (t) => context.townFacts.get(t)?.reportYear });
}

/** The terms whose statistics the composer weighs: the question's tokens, its topics' words and their parts. */
function termsOfInterest(context: IndexContext, queryTokens: readonly string[], topics: readonly Topic[]): string[] {
  const words = topics.map((t) => t.word);
  return [...new Set([...queryTokens, ...words, ...words.flatMap((w) => context.tokenizer.tokenize(w))])];
}

/** Retrieves the passages that best answer a question. */
export async function retrieve(context: IndexContext, embedder: Embedder, question: string, options: RetrieveOptions): Promise<Retrieval> {
  const { snapshot } = context;
  const filters = options.filters ?? {};
  const analysis = analyzeQuery(question, context.towns, context.tokenizer.segmenter);
  const hints = options.useHints !== false;
  const towns = filters.town ? [filters.town] : hints ? analysis.towns : [];
  // Applied by the store before ranking; within named towns its dense search is exact.
  const storeFilters = storeFiltersOf(filters, towns);

  const n = options.candidates ?? 40;
  const queryTokens = context.tokenizer.tokenize(question);
  // One embedding per question, of its focus: the town is already a filter, and every passage of
  // the right report shares the town and year, so they would only blur the comparison.
  const queryVector = options.queryVector ?? (await embedder.embedQuery(focusOf(question, analysis.towns)));
  await nextTurn();
  const [dense, lexical] = await Promise.all([snapshot.searchChunks(queryVector, n, storeFilters), snapshot.searchKeywords(queryTokens, n, storeFilters)]);

  const byId = new Map<string, { fused: number; dense: number; bm25: number }>();
  const entry = (id: string) => {
    let e = byId.get(id);
    if (!e) {
      e = { fused: 0, dense: 0, bm25: 0 };
      byId.set(id, e);
    }
    return e;
  };
  dense.forEach((hit, rank) => {
    const e = entry(hit.chunkId);
    e.fused += 1 / (RRF_K + rank + 1);
    e.dense = hit.score;
  });
  lexical.forEach((hit, rank) => {
    const e = entry(hit.chunkId);
    e.fused += 1 / (RRF_K + rank + 1);
    e.bm25 = hit.score;
  });
  const ids = [...byId.keys()];
  // Chunks only BM25 found still need a cosine score for answer confidence.
  const lexicalOnly = ids.filter((id) => byId.get(id)!.dense === 0);
  const known = options.knownSentenceScores;
  const [chunks, scored, lexicalVectors] = await Promise.all([snapshot.getChunks(ids), snapshot.scoreSentences(queryVector, known ? ids.filter((id) => !known.has(id)) : ids), snapshot.getChunkVectors(lexicalOnly)]);
  const sentenceScores = (id: string): number[] => scored.get(id) ?? known?.get(id) ?? [];
  const denseOf = new Map(lexicalOnly.map((id, i) => [id, lexicalVectors[i] ? dotProduct(queryVector, lexicalVectors[i]!) : 0]));
  const candidates: ScoredChunk[] = ids.flatMap((id, i) => {
    const chunk = chunks[i];
    if (!chunk) return [];
    const e = byId.get(id)!;
    return [{ chunk, order: context.orderOf(chunk), fused: e.fused, dense: e.dense, bm25: e.bm25, sentenceScores: sentenceScores(id) }];
  });

  // A third ranking: each candidate by its best sentence, compared with the question's focus.
  // A passage that holds one sentence answering the question can read, as a whole, about
  // something else.
  const bySentence = candidates.map((e) => ({ e, best: bestSentence(e.sentenceScores) })).sort((a, b) => b.best.similarity - a.best.similarity);
  bySentence.forEach(({ e }, rank) => (e.fused += SENTENCE_WEIGHT / (RRF_K + rank + 1)));
  // Plan or result is a property of the statement; the section's role stands for it, except
  // where the sentence that answers says otherwise (a plan reported in a review section).
  const statesPlan = new Map(
    bySentence.map(({ e, best }) => {
      const [s, end] = e.chunk.sentences[best.k] ?? [0, 0];
      return [e, PLANNED.test(chunkText(e.chunk, s, end))];
    }),
  );
  for (const e of candidates) {
    if (e.dense === 0) e.dense = denseOf.get(e.chunk.id) ?? 0;
    const roleMatches = e.chunk.role === analysis.role || (analysis.role === 'plan' && statesPlan.get(e) === true);
    if (hints && analysis.role && roleMatches) e.fused *= ROLE_BOOST;
    if (hints && analysis.years.some((y) => e.chunk.years.includes(y))) e.fused *= YEAR_BOOST;
  }
  const ranked = candidates.sort((a, b) => b.fused - a.fused || a.order - b.order);
  const top = ranked.slice(0, options.topK);
  const passages = top.map((e) => toPassage(context, e.chunk, e.dense));
  const annotation = annotationOf(context, question);

  let terms = termTableOf({ chunkCount: context.generation.chunks, averageLength: 0, terms: {} });
  let topics: Topic[] = [];
  if (options.evidence !== false) {
    topics = topicsOf(annotation.indicator, context.tokenizer.segmenter);
    // What the composer reads of the returned passages and of the question's words, in three batched reads.
    const topIds = top.map((e) => e.chunk.id);
    const [annotations, tokens, stats] = await Promise.all([
      snapshot.getDerived<SentenceAnnotation[]>(SENTENCE_ANNOTATIONS, topIds),
      snapshot.getDerived<string[][]>(SENTENCE_TOKENS, topIds),
      // Per-town counts serve only the not-mentioned check on the question's own towns.
      snapshot.termStats(termsOfInterest(context, queryTokens, topics), towns.length > 0 ? { byTown: true, towns } : {}),
    ]);
    const annotationsOf = new Map(annotations.map((r) => [r.key, r.value]));
    const tokensOf = new Map(tokens.map((r) => [r.key, r.value]));
    for (const e of top) e.sentences = { annotations: annotationsOf.get(e.chunk.id) ?? [], tokens: tokensOf.get(e.chunk.id) ?? [] };
    terms = termTableOf(stats);
  }
  return { question, queryVector, scopeTowns: towns, analysis, annotation, queryTokens, ranked, passages, terms, topics };
}

/** The sentence closest to the question: its similarity and its index. */
function bestSentence(scores: readonly number[]): { similarity: number; k: number } {
  let best = { similarity: -1, k: 0 };
  scores.forEach((similarity, k) => {
    if (similarity > best.similarity) best = { similarity, k };
  });
  return best;
}
