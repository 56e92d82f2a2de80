/**
 * Observability of a real server with the real service: Prometheus metrics per route pattern and
 * status, retrieval and embedding time, answer-cache hits, index size and ingest runs, an
 * optional token on /metrics; structured logs with the request id, and residents' questions kept
 * out of the logs unless LOG_QUESTIONS is on.
 */
import type { Server } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAnswerCache } from '../../src/qa/cache.js';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { loadIndex } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { createMetrics, type Metrics } from '../../src/server/metrics.js';
import { openTestService, testIndexDir } from '../services.js';
import { call, close, expectError, listen, postJson } from './helpers.js';

/** A question carrying what a resident might type: a name and a phone number. */
const PRIVATE = '我是张三,电话13800138000,牛塘镇安置房什么时候交付?';

/** The real service over the test index, its embedder and itself timed by `metrics`, behind the real answer cache. */
async function instrumentedService(metrics: Metrics): Promise<QaService> {
  const { embedder, config } = await openTestService();
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  const cached = withAnswerCache(await createQaService(snapshotOfLoadedIndex(index), metrics.instrumentEmbedder(embedder), { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD }), 100);
  return metrics.instrumentService(cached);
}

describe('GET /metrics', () => {
  let server: Server;
  let base = '';
  let metrics: Metrics;

  beforeAll(async () => {
    metrics = createMetrics();
    const service = await instrumentedService(metrics);
    metrics.watchService(() => service);
    ({ server, base } = await listen(createApp({ service, maxQuestionChars: 500, defaultTopK: 5, metrics, web: false })));
  });
  afterAll(() => close(server));

  it('counts requests and times them per route pattern and status, and retrieval, embedding, cache, index and ingest', async () => {
    const question = '牛塘镇2022年上半年申报了多少家国家高新技术企业?';
    await call(base, '/api/ask', postJson({ question }));
    await call(base, '/api/ask', postJson({ question })); // answered from the cache
    await call(base, '/api/ask', postJson({ question: '' }));
    await call(base, `/api/search?q=${encodeURIComponent('安置房')}`);
    const docs = (await call(base, '/api/documents')).body.documents as Array<{ docId: string }>;
    await call(base, `/api/documents/${docs[0]!.docId}`);
    await call(base, '/api/documents/no-such-id-1');
    await call(base, '/api/documents/no-such-id-2');
    await call(base, '/no/such/route/at/all');
    metrics.recordIngest('succeeded', 12.5);
    metrics.recordIngest('failed', 1);

    const reply = await call(base, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = reply.raw;
    const value = (series: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      expect(line, series).toBeDefined();
      return Number(line!.split(' ').pop());
    };
    expect(value('qa_http_requests_total{method="POST",route="/api/ask",status="200"}')).toBe(2);
    expect(value('qa_http_requests_total{method="POST",route="/api/ask",status="400"}')).toBe(1);
    expect(value('qa_http_requests_total{method="GET",route="/api/search",status="200"}')).toBe(1);
    // One series per route pattern however many ids clients send.
    expect(value('qa_http_requests_total{method="GET",route="/api/documents/:docId",status="404"}')).toBe(2);
    expect(text).not.toMatch(/no-such-id|\/no\/such\/route/);
    expect(value('qa_http_requests_total{method="GET",route="(unmatched)",status="404"}')).toBe(1);
    expect(value('qa_http_request_duration_seconds_count{method="POST",route="/api/ask",status="200"}')).toBe(2);
    expect(value('qa_retrieval_duration_seconds_count{operation="ask"}')).toBe(2);
    expect(value('qa_retrieval_duration_seconds_count{operation="search"}')).toBe(1);
    // Two questions embedded (the cached one is not): one for ask, one for search... at least.
    expect(value('qa_embedding_duration_seconds_count{kind="query"}')).toBeGreaterThanOrEqual(2);
    expect(value('qa_answer_cache_hits')).toBe(1);
    expect(value('qa_answer_cache_lookups')).toBe(2);
    expect(value('qa_answer_cache_hit_ratio')).toBe(0.5);
    expect(value('qa_index_documents')).toBe(5);
    expect(value('qa_index_chunks')).toBeGreaterThan(5);
    expect(value('qa_service_ready')).toBe(1);
    expect(value('qa_ingest_runs_total{outcome="succeeded"}')).toBe(1);
    expect(value('qa_ingest_runs_total{outcome="failed"}')).toBe(1);
    expect(value('qa_ingest_duration_seconds_count')).toBe(2);
    expect(text).toMatch(/qa_index_info\{index_version="gen-[^"]+",embedding_model="[^"]*bge-small-zh[^"]*"\} 1/);
  });

  it('keeps each app its own registry, so several apps can live in one process', () => {
    const other = createMetrics();
    expect(other.registry).not.toBe(metrics.registry);
    expect(() => createMetrics({ processMetrics: true })).not.toThrow();
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('answers 401 without the token and the metrics with it', async () => {
    const metrics = createMetrics();
    const { server, base } = await listen(createApp({ service: (await openTestService()).service, maxQuestionChars: 500, defaultTopK: 5, metrics, metricsToken: 'metrics-secret-token', web: false }));
    try {
      const refused = await call(base, '/metrics');
      expectError(refused, 401, 'E_UNAUTHORIZED');
      expectError(await call(base, '/metrics', { headers: { authorization: 'Bearer wrong' } }), 401, 'E_UNAUTHORIZED');
      const ok = await call(base, '/metrics', { headers: { authorization: 'Bearer metrics-secret-token' } });
      expect(ok.status).toBe(200);
      expect(ok.raw).toContain('qa_http_requests_total');
    } finally {
      await close(server);
    }
  });
});

describe('logs', () => {
  async function logsOf(logQuestions: boolean, run: (base: string) => Promise<void>): Promise<Array<Record<string, unknown>>> {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'trace' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const { server, base } = await listen(createApp({ service: (await openTestService()).service, maxQuestionChars: 60, defaultTopK: 5, logger, logQuestions, web: false }));
    try {
      await run(base);
    } finally {
      await close(server);
    }
    return lines;
  }

  it('keeps question text out of every log line by default, at every level', async () => {
    let requestId = '';
    const lines = await logsOf(false, async (base) => {
      const reply = await call(base, '/api/ask', postJson({ question: PRIVATE }));
      expect(reply.status).toBe(200);
      requestId = reply.headers.get('x-request-id')!;
      await call(base, '/api/ask', postJson({ question: `${PRIVATE}${'很长'.repeat(40)}` }));
      await call(base, '/api/ask', postJson({ question: PRIVATE, filters: { town: '张三镇' } }));
      await call(base, `/api/search?q=${encodeURIComponent(PRIVATE)}`);
      await call(base, `/api/search?q=${encodeURIComponent(PRIVATE)}&k=999`);
      await call(base, '/api/ask/stream', postJson({ question: PRIVATE }));
    });
    const all = JSON.stringify(lines);
    expect(all).not.toContain('13800138000');
    expect(all).not.toContain('张三,');
    // The answer is still logged, by length and outcome, with the request id.
    const answered = lines.find((l) => l['msg'] === 'answered');
    expect(answered).toMatchObject({ requestId, questionChars: [...PRIVATE].length, found: expect.any(Boolean) });
    expect(lines.filter((l) => l['msg'] === 'request').every((l) => typeof l['requestId'] === 'string' && !String(l['path']).includes('?'))).toBe(true);
  });

  it('logs the question at info level when LOG_QUESTIONS is on', async () => {
    const lines = await logsOf(true, async (base) => {
      await call(base, '/api/ask', postJson({ question: PRIVATE }));
    });
    expect(lines.find((l) => l['msg'] === 'answered')).toMatchObject({ level: 30, question: PRIVATE });
  });
});
