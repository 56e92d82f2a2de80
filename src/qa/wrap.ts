/**
 * The one way to wrap a QA service (the answer cache, the metrics' timing): a new object that
 * forwards every member of QaService to the wrapped one, except those the wrapper replaces. Every
 * member is listed here, so one added to QaService fails to compile until it is forwarded.
 */
import type { QaService } from './types.js';

/** The members a wrapper may replace: the calls, not the index it serves. */
export type ServiceOverrides = Partial<Pick<QaService, 'ask' | 'askStream' | 'search' | 'cacheStats'>>;

export function wrapService(inner: QaService, overrides: ServiceOverrides): QaService {
  return {
    // Read through, not copied: a wrapped view may change what it reports (a new generation's version).
    get indexVersion() {
      return inner.indexVersion;
    },
    get embeddingModel() {
      return inner.embeddingModel;
    },
    get towns() {
      return inner.towns;
    },
    get index() {
      return inner.index;
    },
    ask: overrides.ask ?? ((input) => inner.ask(input)),
    askStream: overrides.askStream ?? ((input) => inner.askStream(input)),
    search: overrides.search ?? ((query, k, filters) => inner.search(query, k, filters)),
    listDocuments: () => inner.listDocuments(),
    documentSummary: (docId) => inner.documentSummary(docId),
    getDocument: (docId) => inner.getDocument(docId),
    stats: () => inner.stats(),
    asRetriever: (options) => inner.asRetriever(options),
    commitments: (towns) => inner.commitments(towns),
    getDerived: (kind, keys) => inner.getDerived(kind, keys),
    cacheStats: overrides.cacheStats ?? (() => inner.cacheStats()),
  };
}
