/** LangChain's `Embeddings` over an {@link Embedder}, so LangChain vector stores can use our model. */
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import type { Embedder } from './embedder.js';

/** LangChain adapter: lets an {@link Embedder} back any LangChain vector store. */
export class TransformersEmbeddings extends Embeddings {
  readonly embedder: Embedder;

  constructor(embedder: Embedder, params: EmbeddingsParams = {}) {
    super(params);
    this.embedder = embedder;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    const vectors = await this.embedder.embedDocuments(documents);
    return vectors.map((v) => Array.from(v));
  }

  async embedQuery(document: string): Promise<number[]> {
    return Array.from(await this.embedder.embedQuery(document));
  }
}
