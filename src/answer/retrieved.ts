/**
 * The extractive answer to a (standalone) question: its passages retrieved, sentences composed
 * into an answer; when the question names towns, a second retrieval over all towns tells whether
 * another town's reports answer it far more closely (then the answer says which town has it).
 */
import { nextTurn } from '../turns.js';
import type { Embedder } from '../embed/embedder.js';
import type { IndexContext } from '../retrieve/context.js';
import { retrieve } from '../retrieve/hybrid.js';
import type { SearchFilters } from '../domain/types.js';
import { candidatesOf, composeExtractiveAnswer, prepareAnswer, type Answer, type Candidate, type ExtractiveOptions } from './extractive.js';

export interface RetrievedAnswerOptions {
  topK: number;
  filters?: SearchFilters | undefined;
  /** The decision model and threshold the composer uses. */
  compose: ExtractiveOptions;
}

export async function answerFromRetrieval(index: IndexContext, embedder: Embedder, question: string, options: RetrievedAnswerOptions): Promise<Answer> {
  const { topK, filters, compose } = options;
  const retrieval = await retrieve(index, embedder, question, { topK, ...(filters ? { filters } : {}) });
  await nextTurn();
  const prepared = prepareAnswer(index, retrieval, compose);
  if ('refusal' in prepared || retrieval.scopeTowns.length === 0) return composeExtractiveAnswer(index, retrieval, compose, { prepared });
  // A question about some towns: do other towns' reports answer it far more closely? Then the
  // asked towns' best sentence is about something else (a figure that exists only elsewhere),
  // and the answer says which town has it. One more retrieval, over all towns.
  // The focus embedded leaves the towns out, so the first retrieval's vector is this one's too,
  // and so are the sentence similarities of the chunks both retrievals find.
  await nextTurn();
  const knownSentenceScores = new Map(retrieval.ranked.map((e) => [e.chunk.id, e.sentenceScores]));
  const wider = await retrieve(index, embedder, question, { topK, useHints: false, queryVector: retrieval.queryVector, knownSentenceScores, ...(filters?.role ? { filters: { role: filters.role } } : {}) });
  const probes: Candidate[] = candidatesOf(index, wider, { ...prepared.question, towns: [] }, compose.model, { excludeTowns: retrieval.scopeTowns });
  await nextTurn();
  return composeExtractiveAnswer(index, retrieval, compose, { prepared, ...(probes.length > 0 ? { probes } : {}) });
}
