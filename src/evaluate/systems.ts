/**
 * The systems `npm run eval -- --compare` puts side by side on the same questions and the same
 * embedding model: this project's pipeline as served, the recipe a LangChain.js user would build
 * from the documentation, and this project's keyword and vector indexes alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MemoryVectorStore } from '@langchain/classic/vectorstores/memory';
import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { QaService } from '../qa/service.js';
import type { Embedder } from '../embed/embedder.js';
import { TransformersEmbeddings } from '../embed/langchain-embeddings.js';
import type { IndexSnapshot } from '../store/index-store.js';
import { createTokenizer } from '../text/tokenize.js';
import type { EvalResponse } from './metrics.js';

export interface EvalSystem {
  name: string;
  answer(question: string): Promise<EvalResponse>;
}

async function timed(run: () => Promise<Omit<EvalResponse, 'ms'>>): Promise<EvalResponse> {
  const started = performance.now();
  const result = await run();
  return { ...result, ms: Math.round(performance.now() - started) };
}

/** This project's pipeline, exactly as the server answers. */
export function pipelineSystem(service: QaService): EvalSystem {
  return {
    name: 'this project',
    answer: (question) =>
      timed(async () => {
        const r = await service.ask({ question });
        const d = r.diagnostics;
        const detail = `conf=${d.confidence.toFixed(2)} cov=${d.coverage.toFixed(2)} miss=${d.missing.toFixed(2)} sent=${d.sentenceDense.toFixed(2)} ${d.reason}`;
        return { answer: r.answer, found: r.found, passages: r.citations.map((c) => c.text), detail };
      }),
  };
}

/**
 * The LangChain documentation recipe: each file's raw text, RecursiveCharacterTextSplitter
 * (chunkSize 1000, chunkOverlap 200, default separators), the same embeddings, MemoryVectorStore,
 * similaritySearch with k = 4, the top passage as the answer. It never abstains.
 */
export async function langchainRecipeSystem(corpusDir: string, embedder: Embedder): Promise<EvalSystem> {
  const splitter = new RecursiveCharacterTextSplitter({ chunkSize: 1000, chunkOverlap: 200 });
  const files = fs.readdirSync(corpusDir).filter((f) => /\.(txt|md)$/.test(f));
  const docs = await splitter.createDocuments(
    files.map((f) => fs.readFileSync(path.join(corpusDir, f), 'utf8')),
    files.map((f) => ({ source: f })),
  );
  const store = await MemoryVectorStore.fromDocuments(docs, new TransformersEmbeddings(embedder));
  return {
    name: 'LangChain recipe',
    answer: (question) =>
      timed(async () => {
        const hits = await store.similaritySearch(question, 4);
        return { answer: hits[0]?.pageContent ?? '', found: hits.length > 0, passages: hits.map((h) => h.pageContent) };
      }),
  };
}

/** BM25 over this project's keyword index alone; the top passage as the answer. */
export async function keywordOnlySystem(snapshot: IndexSnapshot): Promise<EvalSystem> {
  const tokenizer = createTokenizer(await snapshot.lexicon());
  return {
    name: 'BM25 only',
    answer: (question) =>
      timed(async () => {
        const hits = await textsOf(snapshot, await snapshot.searchKeywords(tokenizer.tokenize(question), 5));
        return { answer: hits[0] ?? '', found: hits.length > 0, passages: hits };
      }),
  };
}

/** This project's vector index alone; the top passage as the answer. */
export function denseOnlySystem(snapshot: IndexSnapshot, embedder: Embedder): EvalSystem {
  return {
    name: 'dense only',
    answer: (question) =>
      timed(async () => {
        const hits = await textsOf(snapshot, await snapshot.searchChunks(await embedder.embedQuery(question), 5));
        return { answer: hits[0] ?? '', found: hits.length > 0, passages: hits };
      }),
  };
}

/** The texts of the hits' chunks, in rank order. */
async function textsOf(snapshot: IndexSnapshot, hits: ReadonlyArray<{ chunkId: string }>): Promise<string[]> {
  return (await snapshot.getChunks(hits.map((h) => h.chunkId))).flatMap((c) => (c ? [c.text] : []));
}
