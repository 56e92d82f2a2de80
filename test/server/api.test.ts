/**
 * The HTTP contract of docs/design.md, exercised over a real server on 127.0.0.1 with the real
 * QA service (real index from the shipped corpus, real model).
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createApp } from '../../src/server/app.js';
import type { Server } from 'node:http';
import { call as callAt, close, expectError, listen, postJson, LEAK } from '../http.js';
import { openTestService } from '../services.js';

const PASSAGE_FIELDS = ['chunkId', 'docId', 'title', 'town', 'date', 'section', 'role', 'text', 'start', 'end', 'score'];

describe('API with the index loaded', () => {
  const logLines: Array<Record<string, unknown>> = [];
  let server: Server;
  let base = '';
  let maxQuestionChars = 0;
  let towns: readonly string[] = [];
  const call = (path: string, init?: RequestInit) => callAt(base, path, init);

  beforeAll(async () => {
    const { service, config } = await openTestService();
    maxQuestionChars = config.maxQuestionChars;
    towns = service.towns;
    const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(JSON.parse(line) as Record<string, unknown>) });
    ({ server, base } = await listen(createApp({ service, maxQuestionChars, defaultTopK: config.defaultTopK, logger })));
  });

  afterAll(() => close(server));

  describe('POST /api/ask', () => {
    const question = '牛塘镇2022年上半年申报了多少家国家高新技术企业?';

    it('answers with the figure, cited by passages that point back into their documents', async () => {
      const reply = await call('/api/ask', postJson({ question }));
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = reply.body;
      expect(Object.keys(body).sort()).toEqual(['answer', 'answerId', 'checks', 'citations', 'found', 'mode', 'status', 'tookMs']);
      expect(body).toMatchObject({ found: true, mode: 'extractive', checks: { llm: 'off', attempts: [] }, tookMs: expect.any(Number) });
      expect(body.answer).toContain('35家');
      expect(body.answer).toMatch(/\[\d+\]/);
      expect(body.citations.length).toBeGreaterThan(0);
      expect(body.citations.some((c: { text: string }) => c.text.includes('35家'))).toBe(true);

      const docs = new Map<string, string>();
      for (const [i, c] of body.citations.entries()) {
        expect(c.n).toBe(i + 1);
        for (const field of PASSAGE_FIELDS) expect(c).toHaveProperty(field);
        expect(c.town).toBe('牛塘镇');
        expect(['review', 'plan', 'other']).toContain(c.role);
        expect(typeof c.score).toBe('number');
        if (!docs.has(c.docId)) docs.set(c.docId, (await call(`/api/documents/${encodeURIComponent(c.docId)}`)).body.text);
        const text = docs.get(c.docId)!;
        expect(c.text).toBe(text.slice(c.start, c.end));
        if (c.quote) {
          // The quoted sentence lies inside its passage.
          expect(c.quote.start).toBeGreaterThanOrEqual(c.start);
          expect(c.quote.end).toBeLessThanOrEqual(c.end);
        }
      }
      expect(body.citations.some((c: { quote?: unknown }) => c.quote !== undefined)).toBe(true);
    });

    it('cites at most topK passages and honours filters', async () => {
      const reply = await call('/api/ask', postJson({ question: '安置房', topK: 2, filters: { town: '牛塘镇', role: 'plan' } }));
      expect(reply.status).toBe(200);
      expect(reply.body.citations.length).toBeLessThanOrEqual(2);
      for (const c of reply.body.citations) expect(c).toMatchObject({ town: '牛塘镇', role: 'plan' });
    });

    it('echoes a request id, hides the framework and marks JSON as such', async () => {
      const reply = await call('/api/ask', postJson({ question: '' }));
      expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(reply.headers.get('x-powered-by')).toBeNull();
      expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
      const traced = await call('/api/health', { headers: { 'x-request-id': 'trace-42' } });
      expect(traced.headers.get('x-request-id')).toBe('trace-42');
      const forged = await call('/api/health', { headers: { 'x-request-id': 'evil\tline' } });
      expect(forged.headers.get('x-request-id')).not.toContain('evil');
    });

    it('logs a rejected request with its request id', async () => {
      const reply = await call('/api/ask', postJson({ question: 'q', filters: { city: 'x' } }));
      const id = reply.headers.get('x-request-id');
      expect(logLines.some((l) => l['requestId'] === id && l['code'] === 'E_UNKNOWN_FILTER')).toBe(true);
    });

    it('rejects malformed JSON with 400 E_BAD_JSON', async () => {
      expectError(await call('/api/ask', postJson('{"question": "牛塘镇')), 400, 'E_BAD_JSON');
    });

    it('rejects a body that is not JSON with 415', async () => {
      expectError(await call('/api/ask', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"question":"牛塘镇"}' }), 415, 'E_BAD_REQUEST');
      expectError(await call('/api/ask', { method: 'POST', body: new URLSearchParams({ question: '牛塘镇' }) }), 415, 'E_BAD_REQUEST');
      expectError(await call('/api/ask', { method: 'POST' }), 415, 'E_BAD_REQUEST');
    });

    it.each([
      ['no question', {}],
      ['an empty question', { question: '' }],
      ['a whitespace-only question', { question: '  \n\t ' }],
    ])('rejects %s with 400 E_QUESTION_MISSING', async (_name, body) => {
      expectError(await call('/api/ask', postJson(body)), 400, 'E_QUESTION_MISSING');
    });

    it('rejects a question over the limit with 400 E_QUESTION_TOO_LONG, stating the limit', async () => {
      const reply = await call('/api/ask', postJson({ question: '镇'.repeat(maxQuestionChars + 1) }));
      expectError(reply, 400, 'E_QUESTION_TOO_LONG');
      expect(reply.body.error.message).toContain(String(maxQuestionChars));
    });

    it('rejects control characters with 400 E_BAD_REQUEST', async () => {
      expectError(await call('/api/ask', postJson({ question: '牛塘镇\u0000安置房' })), 400, 'E_BAD_REQUEST');
    });

    it.each([0, 21, 1.5, '3'])('rejects topK %j with 400 E_BAD_REQUEST', async (topK) => {
      expectError(await call('/api/ask', postJson({ question: '安置房', topK })), 400, 'E_BAD_REQUEST');
    });

    it.each([
      ['an unknown filter key', { city: '常州' }],
      ['an unknown town', { town: '火星镇' }],
      ['the role other', { role: 'other' }],
      ['a role that does not exist', { role: 'result' }],
    ])('rejects %s with 400 E_UNKNOWN_FILTER', async (_name, filters) => {
      expectError(await call('/api/ask', postJson({ question: '安置房', filters })), 400, 'E_UNKNOWN_FILTER');
    });

    it('names the known towns when the town is unknown', async () => {
      const reply = await call('/api/ask', postJson({ question: '安置房', filters: { town: '火星镇' } }));
      for (const town of towns) expect(reply.body.error.message).toContain(town);
    });

    it('rejects a year out of range and an unknown top-level key with 400 E_BAD_REQUEST', async () => {
      expectError(await call('/api/ask', postJson({ question: '安置房', filters: { year: 1800 } })), 400, 'E_BAD_REQUEST');
      expectError(await call('/api/ask', postJson({ question: '安置房', topk: 3 })), 400, 'E_BAD_REQUEST');
      expectError(await call('/api/ask', postJson([{ question: '安置房' }])), 400, 'E_BAD_REQUEST');
    });

    it('rejects a body over 16 KB with 413', async () => {
      expectError(await call('/api/ask', postJson({ question: '牛'.repeat(20_000) })), 413, 'E_BAD_REQUEST');
    });

    it('answers other methods with 405 and an Allow header', async () => {
      const reply = await call('/api/ask');
      expectError(reply, 405, 'E_BAD_REQUEST');
      expect(reply.headers.get('allow')).toBe('POST');
    });
  });

  describe('GET /api/search', () => {
    it('returns passages with the contract fields, at most k, best first', async () => {
      const reply = await call(`/api/search?q=${encodeURIComponent('国家高新技术企业')}&k=5`);
      expect(reply.status).toBe(200);
      expect(Object.keys(reply.body).sort()).toEqual(['results', 'tookMs']);
      const { results } = reply.body;
      expect(results.length).toBeGreaterThan(0);
      expect(results.length).toBeLessThanOrEqual(5);
      for (const r of results) expect(Object.keys(r).sort()).toEqual([...PASSAGE_FIELDS].sort());
    });

    it('returns 10 results when k is not given', async () => {
      const reply = await call(`/api/search?q=${encodeURIComponent('经济发展')}`);
      expect(reply.status).toBe(200);
      expect(reply.body.results.length).toBe(10);
    });

    it('honours the town filter', async () => {
      const reply = await call(`/api/search?q=${encodeURIComponent('安置房')}&town=${encodeURIComponent('梅李镇')}`);
      expect(reply.status).toBe(200);
      expect(reply.body.results.length).toBeGreaterThan(0);
      for (const r of reply.body.results) expect(r.town).toBe('梅李镇');
    });

    it('honours the role filter', async () => {
      const reply = await call(`/api/search?q=${encodeURIComponent('工作')}&role=plan&k=20`);
      expect(reply.status).toBe(200);
      expect(reply.body.results.length).toBeGreaterThan(0);
      for (const r of reply.body.results) expect(r.role).toBe('plan');
    });

    it('rejects a missing or empty q with 400 E_QUESTION_MISSING', async () => {
      expectError(await call('/api/search'), 400, 'E_QUESTION_MISSING');
      expectError(await call('/api/search?q=%20'), 400, 'E_QUESTION_MISSING');
    });

    it('rejects a repeated q with 400 E_BAD_REQUEST', async () => {
      expectError(await call('/api/search?q=a&q=b'), 400, 'E_BAD_REQUEST');
    });

    it.each(['k=0', 'k=51', 'k=abc', 'year=abc', 'year=2022.5'])('rejects %s with 400 E_BAD_REQUEST', async (param) => {
      expectError(await call(`/api/search?q=a&${param}`), 400, 'E_BAD_REQUEST');
    });

    it.each([`town=${encodeURIComponent('火星镇')}`, 'role=other', 'twon=x'])('rejects %s with 400 E_UNKNOWN_FILTER', async (param) => {
      expectError(await call(`/api/search?q=a&${param}`), 400, 'E_UNKNOWN_FILTER');
    });
  });

  describe('GET /api/documents', () => {
    it('lists the five reports with their metadata and without their text', async () => {
      const reply = await call('/api/documents');
      expect(reply.status).toBe(200);
      const { documents } = reply.body;
      expect(documents).toHaveLength(5);
      for (const d of documents) {
        expect(d).toMatchObject({ docId: expect.any(String), title: expect.any(String), town: expect.stringMatching(/(镇|街道)$/), date: expect.stringMatching(/^\d{4}(-\d{2}-\d{2})?$/) });
        expect(d).not.toHaveProperty('text');
      }
      expect(new Set(documents.map((d: { town: string }) => d.town)).size).toBe(5);
    });

    it('returns one document with its cleaned text', async () => {
      const { documents } = (await call('/api/documents')).body;
      const docId = documents[0].docId as string;
      const reply = await call(`/api/documents/${encodeURIComponent(docId)}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ docId, town: documents[0].town, text: expect.any(String) });
      expect(reply.body.text.length).toBeGreaterThan(1000);
    });

    it('answers an unknown document with 404 E_DOCUMENT_NOT_FOUND', async () => {
      expectError(await call('/api/documents/no-such-report'), 404, 'E_DOCUMENT_NOT_FOUND');
    });

    it.each(['..%2f..%2fetc%2fpasswd', '..%5c..%5cwindows', 'a%00b', '__proto__x%2f'])('never resolves the path trick %s', async (docId) => {
      const reply = await call(`/api/documents/${docId}`);
      expectError(reply, 404, 'E_DOCUMENT_NOT_FOUND');
      expect(reply.raw).not.toMatch(/root:|passwd/);
    });

    it('answers a malformed escape in the path with 400', async () => {
      expectError(await call('/api/documents/%E0%A4%A'), 400, 'E_BAD_REQUEST');
    });
  });

  describe('GET /api/health', () => {
    it('reports ok with the counts, the model and the index version', async () => {
      const reply = await call('/api/health');
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        status: 'ok',
        documents: 5,
        chunks: expect.any(Number),
        embeddingModel: expect.stringContaining('bge-small-zh'),
        indexVersion: expect.any(String),
      });
      expect(reply.body.chunks).toBeGreaterThan(5);
    });
  });

  describe('unknown routes', () => {
    it.each(['/api/nope', '/api', '/api/ask/extra', '/index.html', '/assets/nope.js', '/assets/../package.json'])('answer %s with a JSON 404 E_NOT_FOUND', async (path) => {
      expectError(await call(path), 404, 'E_NOT_FOUND');
    });
  });
});

describe('API while no index is loaded', () => {
  let server: Server;
  let base = '';
  let loadError: AppError | undefined;
  const call = (path: string, init?: RequestInit) => callAt(base, path, init);

  beforeAll(async () => {
    ({ server, base } = await listen(createApp({ getService: () => undefined, getLoadError: () => loadError, maxQuestionChars: 500, defaultTopK: 5 })));
  });

  afterAll(() => close(server));

  it('answers /api routes with 503 E_INDEX_MISSING telling to run npm run ingest', async () => {
    for (const reply of [
      await call('/api/ask', postJson({ question: '安置房' })),
      await call('/api/search?q=a'),
      await call('/api/documents'),
      await call('/api/documents/x'),
      await call('/api/nope'),
    ]) {
      expectError(reply, 503, 'E_INDEX_MISSING');
      expect(reply.body.error.message).toContain('npm run ingest');
    }
  });

  it('reports loading on /api/health with 503', async () => {
    const reply = await call('/api/health');
    expect(reply.status).toBe(503);
    expect(reply.body).toEqual({ status: 'loading' });
    expect(reply.headers.get('retry-after')).toBe('10');
  });

  it('reports a failed load with its message, without the server paths it names', async () => {
    loadError = new AppError('E_MODEL_MISSING', 'embedding model Xenova/bge-small-zh-v1.5 failed to load from /work/main/models/Xenova/bge-small-zh-v1.5: bad; run `npm run model:fetch`');
    try {
      const health = await call('/api/health');
      expect(health.status).toBe(503);
      expect(health.body).toMatchObject({ status: 'no-index', error: { code: 'E_MODEL_MISSING' } });
      expect(health.raw).not.toMatch(LEAK);
      const ask = await call('/api/ask', postJson({ question: '安置房' }));
      expectError(ask, 503, 'E_MODEL_MISSING');
      expect(ask.body.error.message).toContain('npm run model:fetch');

      loadError = new AppError('E_PARSE', 'load: report.docx is not a valid docx');
      expectError(await call('/api/documents'), 503, 'E_INDEX_MISSING');
    } finally {
      loadError = undefined;
    }
  });
});
