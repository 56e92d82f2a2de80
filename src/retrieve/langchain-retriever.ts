/**
 * The hybrid retrieval as a LangChain retriever, so it composes with LangChain chains
 * (`retriever.invoke(question)` gives Documents whose metadata carry the citation fields).
 */
import { Document } from '@langchain/core/documents';
import { BaseRetriever, type BaseRetrieverInput } from '@langchain/core/retrievers';
import type { Embedder } from '../embed/embedder.js';
import type { Passage, SearchFilters } from '../domain/types.js';
import { retrieve, type SearchableIndex } from './hybrid.js';

export interface ReportRetrieverInput extends BaseRetrieverInput {
  searchable: SearchableIndex;
  embedder: Embedder;
  /** Documents returned per query. Default 5. */
  k?: number;
  filters?: SearchFilters;
}

export type PassageMetadata = Omit<Passage, 'text'>;

export class ReportRetriever extends BaseRetriever<PassageMetadata> {
  lc_namespace = ['township-report-qa', 'retrievers'];
  private readonly searchable: SearchableIndex;
  private readonly embedder: Embedder;
  private readonly k: number;
  private readonly filters: SearchFilters | undefined;

  constructor(fields: ReportRetrieverInput) {
    super(fields);
    this.searchable = fields.searchable;
    this.embedder = fields.embedder;
    this.k = fields.k ?? 5;
    this.filters = fields.filters;
  }

  async _getRelevantDocuments(query: string): Promise<Document<PassageMetadata>[]> {
    const { passages } = await retrieve(this.searchable, this.embedder, query, {
      topK: this.k,
      ...(this.filters ? { filters: this.filters } : {}),
    });
    return passages.map(({ text, ...metadata }) => new Document({ pageContent: text, metadata, id: metadata.chunkId }));
  }
}
