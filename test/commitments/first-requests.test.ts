/**
 * The first /api/suggestions and /api/commitments after a start read what ingest stored: neither
 * request embeds anything (a commitment book build embeds its topic phrases) nor asks the service
 * a question (a suggestion check asks each candidate). A real server on 127.0.0.1 over the test
 * index, with a fresh service whose embedder and ask count their calls. Timings: npm run bench.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../../src/qa/service.js';
import type { Embedder } from '../../src/embed/embedder.js';
import { loadIndex } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { call, close, listen } from '../http.js';
import { openTestService, testIndexDir } from '../services.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';

let server: Server;
let base = '';
const calls = { embedDocuments: 0, embedQuery: 0, ask: 0 };

beforeAll(async () => {
  const { embedder, config } = await openTestService();
  // A new embedder object: nothing cached for it (the topic phrases are embedded once per embedder).
  const counting: Embedder = {
    id: embedder.id,
    dimension: embedder.dimension,
    embedDocuments: (texts) => ((calls.embedDocuments += 1), embedder.embedDocuments(texts)),
    embedQuery: (text) => ((calls.embedQuery += 1), embedder.embedQuery(text)),
  };
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  const fresh = await createQaService(snapshotOfLoadedIndex(index), counting, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD });
  const service: QaService = { ...fresh, ask: (input) => ((calls.ask += 1), fresh.ask(input)) };
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK })));
});

afterAll(() => close(server));

describe('the first requests after a start', () => {
  it('answer /api/suggestions and /api/commitments from the stored records, building nothing', async () => {
    const suggestions = await call(base, '/api/suggestions');
    expect(suggestions.status).toBe(200);
    expect(suggestions.body.suggestions.length).toBeGreaterThan(0);
    const town = await call(base, `/api/suggestions?town=${encodeURIComponent('梅李镇')}`);
    expect(town.body.suggestions.length).toBeGreaterThan(0);
    const commitments = await call(base, '/api/commitments');
    expect(commitments.status).toBe(200);
    expect(commitments.body.total).toBeGreaterThan(300);
    const one = await call(base, `/api/commitments/${encodeURIComponent(commitments.body.commitments[0].id)}`);
    expect(one.status).toBe(200);
    expect(calls).toEqual({ embedDocuments: 0, embedQuery: 0, ask: 0 });
  });
});
