/**
 * Commitment routing: a question that asks for a list of promises, or for one promise's outcome,
 * is answered from the commitment book (src/commitments); any other goes on to retrieval. The
 * book (computed at ingest) is read through the service's CommitmentBookReader: the asked towns'
 * records on first need, then kept.
 */
import type { Answer } from '../answer/extractive.js';
import { answerCommitmentQuestion } from '../commitments/answer.js';
import type { CommitmentBookReader } from '../commitments/book.js';
import type { IndexContext } from '../retrieve/context.js';
import type { SearchFilters } from '../domain/types.js';

/** The commitment book's answer to a list or outcome question, else undefined (retrieval answers). */
export function routeToCommitments(question: string, filters: SearchFilters | undefined, book: CommitmentBookReader, index: IndexContext): Promise<Answer | undefined> {
  return answerCommitmentQuestion(question, book, { towns: index.towns, tokenizer: index.tokenizer, snapshot: index.snapshot, documents: index.documents, ...(filters ? { filters } : {}) });
}
