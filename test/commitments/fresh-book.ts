/**
 * The reference computation of the commitment book for the derived-records tests: from a loaded
 * index's own arrays (documents, chunks, sentence vectors, lexicon, BM25 index) with a tokenizer
 * made afresh from the stored lexicon, as plain JSON-comparable data.
 */
import { computeCommitmentBook } from '../../src/commitments/book.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { idf } from '../../src/index/lexical.js';
import type { LoadedIndex } from '../../src/index/store.js';
import { createTokenizer } from '../../src/text/tokenize.js';

export async function freshBookOf(index: LoadedIndex, embedder: Embedder) {
  const book = await computeCommitmentBook({
    documents: index.documents,
    chunks: index.chunks,
    sentenceVectors: index.chunks.map((c, i) => index.sentenceEmbeddings.slice(index.sentenceRows[i]!, index.sentenceRows[i]! + c.sentences.length)),
    tokenizer: createTokenizer(index.lexicon),
    weightOf: (t) => idf(index.keywords, t),
    lexicon: index.lexicon,
    embedder,
  });
  return { commitments: book.commitments, results: book.results, followUps: [...book.followUps] };
}
