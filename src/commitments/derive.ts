/**
 * The ingest deriver of the commitments feature (registered in src/index/derive.ts): from the
 * finished build it computes the commitment book (every commitment with its topic and follow-up,
 * every result) and each town's candidate first questions, as derived records, so that a loaded
 * index serves /api/commitments and /api/suggestions by reading them.
 *
 * Kinds written:
 * - 'commitments': key = commitment id, value = { order, commitment, followUp } (CommitmentRecordValue)
 * - 'commitment-results': key = result id, value = { order, result } (ResultRecordValue)
 * - 'commitment-book': key 'summary', value = { commitments, results } (counts; its absence marks an
 *   index written before the book was stored)
 * - 'suggestion-candidates': key = town, value = SuggestionCandidate[] in the order they are tried
 * The checked suggestions ('suggestions') need the answer pipeline over the new generation and are
 * added by the entry point's index deriver (src/qa/suggestions.ts, IngestOptions.deriveFromIndex).
 */
import { idf } from '../index/lexical.js';
import type { DeriveInput, DerivedRecord } from '../store/index-store.js';
import { commitmentRecords, computeCommitmentBook, type BookSource } from './book.js';
import { suggestionCandidates, type SuggestionCandidate } from './suggestion-candidates.js';

export const SUGGESTION_CANDIDATES_KIND = 'suggestion-candidates';

/** What computing the book reads, from a deriver's input. */
export function bookSourceOf(input: DeriveInput): BookSource {
  return {
    documents: input.documents,
    chunks: input.chunks,
    sentenceVectors: input.sentenceVectors,
    tokenizer: input.tokenizer,
    weightOf: (t) => idf(input.keywords, t),
    lexicon: input.lexicon,
    embedder: input.embedder,
  };
}

/** Candidate questions per town (towns in corpus order), as records. */
export function suggestionCandidateRecords(documents: DeriveInput['documents']): DerivedRecord[] {
  const candidates = suggestionCandidates(documents.map((d) => ({ town: d.meta.town, years: d.meta.years, text: d.text, sections: d.sections })));
  const byTown = new Map<string, SuggestionCandidate[]>();
  for (const c of candidates) {
    const list = byTown.get(c.town);
    if (list) list.push(c);
    else byTown.set(c.town, [c]);
  }
  return [...byTown].map(([town, value]) => ({ kind: SUGGESTION_CANDIDATES_KIND, key: town, value }));
}

/** The deriver: the commitment book and the suggestion candidates of a build. */
export async function deriveCommitments(input: DeriveInput): Promise<DerivedRecord[]> {
  const book = await computeCommitmentBook(bookSourceOf(input));
  return [...commitmentRecords(book), ...suggestionCandidateRecords(input.documents)];
}
