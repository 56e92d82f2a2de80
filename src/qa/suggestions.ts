/**
 * Suggested first questions for a town: the candidates ingest derives from the town's own reports
 * (src/commitments/suggestion-candidates.ts), kept only when the service answers them from a
 * passage, so a first-time user who taps one gets a cited answer, not an apology. The check asks
 * the answer pipeline itself, so it runs at the end of ingest over the new generation (an index
 * deriver handed to ingestCorpus by the entry points) and its outcome is stored with the
 * generation; a loaded service only reads it.
 */
import type { DerivedRecord, IndexSnapshot } from '../store/index-store.js';
import type { Embedder } from '../embed/embedder.js';
import { SUGGESTION_CANDIDATES_KIND } from '../commitments/derive.js';
import type { Suggestion, SuggestionCandidate } from '../commitments/suggestion-candidates.js';
import { createQaService, type QaService } from './service.js';

export type { Suggestion, SuggestionCandidate } from '../commitments/suggestion-candidates.js';

/** Derived kind of the checked suggestions: key = town, value = Suggestion[] (best first). */
export const SUGGESTIONS_KIND = 'suggestions';

export interface SuggesterOptions {
  /** Suggestions kept per town. Default 4. */
  perTown?: number;
  /** Candidates tried per town before giving up on more. Default 12. */
  maxTries?: number;
}

export interface Suggester {
  /** Suggestions for one town, or (no town) the best one or two of every town. */
  suggest(town?: string): Promise<Suggestion[]>;
}

/**
 * An answer that only introduces a list ("主要做了以下五个方面的工作:[1]") cites a passage but
 * answers nothing: a suggestion leading to it is dropped.
 */
const INTRO_ONLY = /[:：]\[\d+\]/;

/** Derived kind of every candidate's check: key = town, value = SuggestionAnswer[] (candidate order). */
export const SUGGESTION_ANSWERS_KIND = 'suggestion-answers';

/** A candidate and the passage the service answers it from (null: not answered, or only a list's introduction). */
export interface SuggestionAnswer {
  question: string;
  chunkId: string | null;
}

/** The passage the service answers a candidate from, asked as a tapped chip asks it. */
export async function answeredFrom(service: Pick<QaService, 'ask'>, candidate: Suggestion): Promise<string | null> {
  // Town filter, no history, and no LLM phrasing: the reports must answer it by themselves.
  const answer = await service.ask({ question: candidate.question, filters: { town: candidate.town }, useLlm: false });
  const first = answer.citations[0];
  return answer.found && first && !INTRO_ONLY.test(answer.answer) ? first.chunkId : null;
}

/**
 * A town's first-open suggestions from its checked candidates: in candidate order, the answered
 * ones among the first `maxTries`, each from a passage none before it is answered from.
 */
export function pickSuggestions(town: string, answers: readonly SuggestionAnswer[], options: SuggesterOptions = {}): Suggestion[] {
  const perTown = options.perTown ?? 4;
  const maxTries = options.maxTries ?? 12;
  const kept: Suggestion[] = [];
  const passages = new Set<string>();
  for (const { question, chunkId } of answers.slice(0, maxTries)) {
    if (kept.length >= perTown) break;
    if (chunkId === null || passages.has(chunkId)) continue;
    passages.add(chunkId);
    kept.push({ question, town });
  }
  return kept;
}

/**
 * The index deriver of the checks (IngestOptions.deriveFromIndex): a service over the generation
 * being built (its commitment book included) asks every town's stored candidates once; the
 * first-open suggestions and the next-question chips (src/feedback/next-questions.ts) both read
 * the outcome.
 */
export function suggestionDeriver(embedder: Embedder, options: { defaultTopK: number } & SuggesterOptions): (snapshot: IndexSnapshot) => Promise<DerivedRecord[]> {
  return async (snapshot) => {
    const service = await createQaService(snapshot, embedder, { defaultTopK: options.defaultTopK });
    const stored = await service.getDerived<SuggestionCandidate[]>(SUGGESTION_CANDIDATES_KIND);
    const records: DerivedRecord[] = [];
    for (const { key: town, value: candidates } of stored) {
      const answers: SuggestionAnswer[] = [];
      for (const c of candidates) answers.push({ question: c.question, chunkId: await answeredFrom(service, c) });
      records.push({ kind: SUGGESTION_ANSWERS_KIND, key: town, value: answers });
      records.push({ kind: SUGGESTIONS_KIND, key: town, value: pickSuggestions(town, answers, options) });
    }
    return records;
  };
}

/** Every stored check of a service's generation, keyed by town and question. */
export async function storedSuggestionAnswers(service: Pick<QaService, 'getDerived'>): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (const { key: town, value } of await service.getDerived<SuggestionAnswer[]>(SUGGESTION_ANSWERS_KIND)) {
    for (const a of value) out.set(suggestionKey(town, a.question), a.chunkId);
  }
  return out;
}

/** The candidate questions ingest stored for `towns` (default: every town), town by town in their order. */
export async function storedSuggestionCandidates(service: Pick<QaService, 'getDerived'>, towns?: readonly string[]): Promise<SuggestionCandidate[]> {
  return (await service.getDerived<SuggestionCandidate[]>(SUGGESTION_CANDIDATES_KIND, towns)).flatMap((r) => r.value);
}

/** The key of storedSuggestionAnswers. */
export const suggestionKey = (town: string, question: string): string => `${town}\u0000${question}`;

/** Serves the stored suggestions of a service's generation; nothing is asked. */
export function createSuggester(service: Pick<QaService, 'towns' | 'getDerived'>): Suggester {
  let stored: Promise<Map<string, Suggestion[]>> | undefined;
  const byTown = (): Promise<Map<string, Suggestion[]>> =>
    (stored ??= service.getDerived<Suggestion[]>(SUGGESTIONS_KIND).then((records) => new Map(records.map((r) => [r.key, r.value]))));
  return {
    async suggest(town) {
      const all = await byTown();
      if (town !== undefined) return all.get(town) ?? [];
      const lists = service.towns.map((t) => all.get(t) ?? []);
      // Interleaved, so every town shows up before any shows twice.
      const mixed: Suggestion[] = [];
      for (let i = 0; i < 2; i++) for (const list of lists) if (list[i]) mixed.push(list[i]!);
      return mixed.slice(0, 6);
    },
  };
}
