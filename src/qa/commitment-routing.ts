/**
 * Commitment routing: a question that asks for a list of promises, or for one promise's outcome,
 * is answered from the commitment book (src/commitments); any other goes on to retrieval. The
 * book (computed at ingest) is read on first need and kept; a failed read is tried again by the next question.
 */
import type { Answer } from '../answer/extractive.js';
import { answerCommitmentQuestion } from '../commitments/answer.js';
import type { CommitmentBook } from '../commitments/book.js';
import type { IndexContext } from '../retrieve/context.js';
import type { SearchFilters } from '../domain/types.js';

/** The book, built by `build` on the first call and then kept; after a failure the next call builds again. */
export function holdCommitmentBook(build: () => Promise<CommitmentBook>): () => Promise<CommitmentBook> {
  let book: Promise<CommitmentBook> | undefined;
  return () => (book ??= build().catch((err: unknown) => ((book = undefined), Promise.reject(err))));
}

/** The commitment book's answer to a list or outcome question, else undefined (retrieval answers). */
export function routeToCommitments(question: string, filters: SearchFilters | undefined, book: () => Promise<CommitmentBook>, index: IndexContext): Promise<Answer | undefined> {
  return answerCommitmentQuestion(question, book, { towns: index.towns, tokenizer: index.tokenizer, snapshot: index.snapshot, ...(filters ? { filters } : {}) });
}
