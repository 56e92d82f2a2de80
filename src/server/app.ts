/**
 * The HTTP API over the QA service (contract: docs/design.md, "HTTP contract"). `createApp(deps)`
 * builds the Express app from what the entry point hands it, so tests build the very same app.
 * The service may arrive after the server listens: until then /api answers 503.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { pino, type Logger } from 'pino';
import type { AskOutput, QaService } from '../answer/service.js';
import type { Citation } from '../domain/answer.js';
import { AppError, type ErrorCode } from '../errors.js';
import type { Passage } from '../domain/types.js';
import { errorHandler, methodNotAllowed, notFound, redactPaths, requestIdOf } from './errors.js';
import { apiRateLimit } from './rate-limit.js';
import { apiCors, securityHeaders } from './security.js';
import { createStaticRoutes } from './static.js';
import { createOpenAiRoutes } from './openai-compat.js';
import { streamAnswer } from './stream.js';
import { createSuggestionsRoute } from './suggestions.js';
import { createCommitmentRoutes } from './commitments-routes.js';
import { createFeedbackFeature, type FeedbackDeps } from './feedback-routes.js';
import { createDraftingRoutes } from './drafting-routes.js';
import { createRequestParsers } from './validation.js';
import { createAdminRouter, type AdminDeps } from './admin-routes.js';
import { jsonBody, refuseWhileStopping, rejectMalformedQuery } from './hardening.js';
import type { Metrics } from './metrics.js';

export interface AppDeps {
  /**
   * Returns the service, or undefined while none is loaded. Read on every request, so the entry
   * point can start listening first and swap the service in once the index is loaded.
   */
  getService?: () => QaService | undefined;
  /** A fixed service (undefined: none loaded). Used when `getService` is not given. */
  service?: QaService | undefined;
  /**
   * Why no service is loaded, once loading has failed; undefined while it is still loading.
   * /api/health reports `loading` before and `no-index` after a failure.
   */
  getLoadError?: () => AppError | undefined;
  /**
   * What the entry point is doing before it can load a service (building the first index), else
   * undefined. While it is defined and no service is loaded, /api, /api/health and
   * /api/health/ready answer 503 E_INDEX_BUILDING with it. Default: never building.
   */
  getBuildProgress?: (() => BuildProgress | undefined) | undefined;
  /** Longest accepted question, in characters (config MAX_QUESTION_CHARS). */
  maxQuestionChars: number;
  /** Passages cited when a request names no topK (config DEFAULT_TOP_K). */
  defaultTopK: number;
  /** Structured log for requests and errors. Default: silent. */
  logger?: Logger | undefined;
  /** Log question text at info level (config LOG_QUESTIONS). Default false: only its length. */
  logQuestions?: boolean | undefined;
  /** Prometheus metrics (metrics.ts): counts and times every request, serves GET /metrics. Default: none. */
  metrics?: Metrics | undefined;
  /** Bearer token GET /metrics requires (config METRICS_TOKEN). Default: none, open. */
  metricsToken?: string | undefined;
  /** The admin API (admin-routes.ts), mounted under /api/admin when given (config ADMIN_TOKEN). */
  admin?: AdminDeps | undefined;
  /** True once the server is shutting down: new requests get 503, /api/health/ready says stopping. */
  isShuttingDown?: (() => boolean) | undefined;
  /** Origins (besides the service's own) whose pages may call /api from a browser (config ALLOWED_ORIGINS). Default: none. */
  allowedOrigins?: readonly string[] | undefined;
  /** Requests per minute per client IP on /api and /v1 (config RATE_LIMIT_PER_MINUTE). Default: 0, no limit. */
  rateLimitPerMinute?: number | undefined;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (config TRUST_PROXY): a hop
   * count or addresses/subnets. Default false: the socket's address, the header ignored.
   */
  trustProxy?: false | number | readonly string[] | undefined;
  /** The chat widget and pages (web/, see static.ts): served unless false. Default: the project's web/. */
  web?: false | { dir?: string } | undefined;
  /** Bearer tokens accepted by the OpenAI-compatible /v1 routes (config API_TOKENS). Empty: no auth. */
  apiTokens?: readonly string[] | undefined;
  /** Feedback, next questions and per-town widget settings (feedback-routes.ts). Default: kept in memory, no settings. */
  feedback?: FeedbackDeps | undefined;
}

/** A step of building the index, as /api reports it while the server prepares (see getBuildProgress). */
export interface BuildProgress {
  /** `model` (fetching, loading), `load`, `parse`, `embed`, `write`, or `open` (loading the new index). */
  stage: string;
  /** Items done and in all in this stage (texts for `embed`); 0 and 0 when not counted. */
  done: number;
  total: number;
  message?: string | undefined;
}

/** The message of a 503 E_INDEX_BUILDING: where the build is, and what to do meanwhile. */
export function describeBuild(p: BuildProgress): string {
  const count = p.total > 0 ? ` ${p.done}/${p.total} (${Math.floor((100 * p.done) / p.total)}%)` : '';
  return `index being built (stage ${p.stage}${count}${p.message ? `: ${p.message}` : ''}); retry shortly, GET /api/health/ready follows it`;
}

export { BODY_LIMIT } from './hardening.js';

/** A document id as the index derives it from a file name: word characters, CJK, hyphens. */
const DOC_ID = /^[\w\u4e00-\u9fff-]{1,200}$/;

/** A client's X-Request-Id is kept (for tracing through a proxy) only when it is this tame. */
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Codes a failed load keeps when reported to clients; others are reported as E_INDEX_MISSING. */
const LOAD_CODES = new Set<ErrorCode>(['E_INDEX_MISSING', 'E_INDEX_MISMATCH', 'E_INDEX_CORRUPT', 'E_MODEL_MISSING', 'E_MODEL_FETCH']);

export function createApp(deps: AppDeps): Express {
  const getService = deps.getService ?? (() => deps.service);
  const getLoadError = deps.getLoadError ?? (() => undefined);
  const getBuildProgress = (): BuildProgress | undefined => (getLoadError() ? undefined : deps.getBuildProgress?.());
  const logger = deps.logger ?? pino({ level: 'silent' });
  const parsers = createRequestParsers({ maxQuestionChars: deps.maxQuestionChars });
  const feedback = createFeedbackFeature({ ...deps.feedback, requireService: () => requireService(), logQuestions: deps.logQuestions ?? false, logger });

  /** The error every /api route but health answers while no service is loaded. */
  const unavailable = (): AppError => {
    const failure = getLoadError();
    const building = getBuildProgress();
    if (building) return new AppError('E_INDEX_BUILDING', describeBuild(building), { status: 503 });
    if (!failure) {
      return new AppError('E_INDEX_MISSING', 'index not loaded yet: the server is still loading it; retry shortly (if it never loads, run `npm run ingest`)', { status: 503 });
    }
    // The message says what to run; the paths it may name stay on the server.
    const message = redactPaths(failure.message);
    if (LOAD_CODES.has(failure.code)) return new AppError(failure.code, message, { status: 503 });
    return new AppError('E_INDEX_MISSING', `index could not be loaded (${failure.code}: ${message}); fix that and run \`npm run ingest\``, { status: 503 });
  };
  const requireService = (): QaService => {
    const service = getService();
    if (!service) throw unavailable();
    return service;
  };

  const app = express();
  app.disable('x-powered-by');
  // Node's querystring: a repeated parameter arrives as an array (rejected by validation), and
  // bracket syntax (?filters[town]=) stays a plain key instead of building nested objects.
  app.set('query parser', 'simple');
  // <, > and & in JSON strings go out as \u003c etc.: a response opened as HTML runs nothing.
  app.set('json escape', true);
  const trustProxy = deps.trustProxy ?? false;
  app.set('trust proxy', Array.isArray(trustProxy) ? [...trustProxy] : trustProxy);

  app.use(requestContext(logger));
  if (deps.metrics) app.use(deps.metrics.middleware());
  app.use(securityHeaders());
  // CORS before the limit and the 503, so an allowed page can read those answers too.
  // One limiter, one count per client, for both front doors: /v1 answers the same questions.
  const limiter = apiRateLimit({ perMinute: deps.rateLimitPerMinute ?? 0 });
  app.use('/api', apiCors({ allowedOrigins: deps.allowedOrigins ?? [] }), limiter);
  app.use('/v1', limiter);
  // After the security headers and CORS, so these refusals carry them too.
  const isShuttingDown = deps.isShuttingDown ?? (() => false);
  app.use(refuseWhileStopping(isShuttingDown), rejectMalformedQuery());

  // Staff manage reports even while no index is loaded (an upload and a reindex make the first one).
  if (deps.admin) app.use('/api/admin', feedback.adminRouter(deps.admin), createAdminRouter(deps.admin));

  // Every /api route but health needs the service.
  app.use('/api', (req, res, next) => {
    if (req.path === '/health' || req.path.startsWith('/health/') || getService()) {
      next();
      return;
    }
    const building = getBuildProgress();
    if (building) {
      // Answered here, not by the error handler: one warning per request while building is noise.
      res.setHeader('Retry-After', '5').status(503).json({ error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
      return;
    }
    if (!getLoadError()) res.setHeader('Retry-After', '10');
    next(unavailable());
  });

  app
    .route('/api/ask')
    .post(...jsonBody(), async (req, res) => {
      const service = requireService();
      const input = parsers.parseAskBody(req.body);
      const { diagnostics, ...output } = await service.ask({ ...input, topK: input.topK ?? deps.defaultTopK });
      logOf(res, logger).info(
        { questionChars: input.question.length, ...(deps.logQuestions ? { question: input.question } : {}), found: output.found, reason: diagnostics.reason, confidence: Number(diagnostics.confidence.toFixed(3)), tookMs: output.tookMs },
        'answered',
      );
      // A fresh answerId for every answer, a cached one too: feedback rates what this resident saw.
      res.json({ ...toAskResponse(output), answerId: feedback.remember(input.question, output, input.filters?.town) });
    })
    .all(methodNotAllowed('POST'));

  app
    .route('/api/ask/stream')
    .post(...jsonBody(), async (req, res) => {
      const service = requireService();
      const input = parsers.parseAskBody(req.body);
      await streamAnswer(res, {
        service,
        input: { ...input, topK: input.topK ?? deps.defaultTopK },
        shape: { citations: (citations) => citations.map(toCitation), response: (r) => ({ ...toAskResponse(r), answerId: feedback.remember(input.question, r, input.filters?.town) }) },
      });
    })
    .all(methodNotAllowed('POST'));

  // Drafting (issue 15): grouped, paged, exact and "more like this" search, similar sentences,
  // export, indicators and their pages. Before /api/search, which it extends when asked to.
  app.use(createDraftingRoutes({ requireService, maxQuestionChars: deps.maxQuestionChars }));

  app
    .route('/api/search')
    .get(async (req, res) => {
      const service = requireService();
      const { q, k, filters } = parsers.parseSearchQuery(req.query);
      const { results, tookMs } = await service.search(q, k, Object.keys(filters).length > 0 ? filters : undefined);
      res.json({ results: results.map(toPassage), tookMs });
    })
    .all(methodNotAllowed('GET, HEAD'));

  app
    .route('/api/documents')
    .get((_req, res) => {
      res.json({ documents: requireService().listDocuments() });
    })
    .all(methodNotAllowed('GET, HEAD'));

  app
    .route('/api/documents/:docId')
    .get((req, res) => {
      const service = requireService();
      const docId = req.params['docId'] ?? '';
      // Ids are checked before any lookup: ../ and friends never reach anything, and are not echoed.
      const document = DOC_ID.test(docId) ? service.getDocument(docId) : undefined;
      if (!document) {
        throw new AppError('E_DOCUMENT_NOT_FOUND', DOC_ID.test(docId) ? `documents: no document "${docId}"; GET /api/documents lists them` : 'documents: no such document; GET /api/documents lists them', { status: 404 });
      }
      res.json(document);
    })
    .all(methodNotAllowed('GET, HEAD'));

  app
    .route('/api/health')
    .get((_req, res) => {
      const service = getService();
      if (service) {
        const { documents, chunks } = service.stats();
        res.json({ status: 'ok', documents, chunks, embeddingModel: service.embeddingModel, indexVersion: service.indexVersion });
        return;
      }
      const failure = getLoadError();
      const building = getBuildProgress();
      if (building) {
        res.setHeader('Retry-After', '5').status(503).json({ status: 'building', error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
        return;
      }
      if (!failure) {
        res.setHeader('Retry-After', '10');
        res.status(503).json({ status: 'loading' });
        return;
      }
      const { code, message } = unavailable();
      res.status(503).json({ status: 'no-index', error: { code, message } });
    })
    .all(methodNotAllowed('GET, HEAD'));

  // Probes: live while the process serves HTTP at all; ready only while it answers questions.
  app
    .route('/api/health/live')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'alive' });
    })
    .all(methodNotAllowed('GET, HEAD'));
  app
    .route('/api/health/ready')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      const service = getService();
      if (isShuttingDown()) res.status(503).json({ status: 'stopping' });
      else if (service) res.json({ status: 'ready', indexVersion: service.indexVersion });
      else if (getBuildProgress()) {
        const building = getBuildProgress()!;
        res.setHeader('Retry-After', '5').status(503).json({ status: 'building', error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
      }
      else if (!getLoadError()) res.setHeader('Retry-After', '10').status(503).json({ status: 'loading' });
      else res.status(503).json({ status: 'no-index', error: { code: unavailable().code, message: unavailable().message } });
    })
    .all(methodNotAllowed('GET, HEAD'));

  if (deps.metrics) app.route('/metrics').get(deps.metrics.handler(deps.metricsToken)).all(methodNotAllowed('GET, HEAD'));

  app.use('/api/suggestions', createSuggestionsRoute(requireService));
  app.use(feedback.router);
  app.use(createCommitmentRoutes({ requireService }));
  app.use('/v1', createOpenAiRoutes({ requireService, maxQuestionChars: deps.maxQuestionChars, defaultTopK: deps.defaultTopK, apiTokens: deps.apiTokens ?? [], citation: toCitation, logger }));
  if (deps.web !== false) app.use(createStaticRoutes(deps.web ?? {}));

  // Anything else, under /api or not, is a JSON 404 (the widget's static assets, when they come,
  // are mounted before this).
  app.use(notFound());
  app.use(errorHandler(logger));
  return app;
}

/** The contract's answer: exactly these fields (diagnostics and any future internals stay home). */
function toAskResponse(output: AskOutput): AskOutput {
  return {
    answer: output.answer,
    found: output.found,
    status: output.status,
    ...(output.reason ? { reason: output.reason } : {}),
    mode: output.mode,
    citations: output.citations.map(toCitation),
    checks: output.checks,
    ...(output.rewrittenQuestion !== undefined ? { rewrittenQuestion: output.rewrittenQuestion } : {}),
    tookMs: output.tookMs,
  };
}

function toPassage(p: Passage): Passage {
  return {
    chunkId: p.chunkId,
    docId: p.docId,
    title: p.title,
    town: p.town,
    date: p.date,
    section: p.section,
    role: p.role,
    text: p.text,
    start: p.start,
    end: p.end,
    score: p.score,
  };
}

function toCitation(c: Citation): Citation {
  // quote: where the sentence the answer quotes sits, so a client can highlight it.
  return { n: c.n, ...toPassage(c), ...(c.quote ? { quote: { start: c.quote.start, end: c.quote.end } } : {}) };
}

/**
 * Request id (the client's X-Request-Id when it is tame, else a fresh UUID, echoed in the
 * response), a per-request child logger, a one-line access log, and nosniff.
 */
function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    res.locals['log'] = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const started = performance.now();
    res.on('finish', () => {
      // The full path (req.path is relative to a router's mount point), never the query: it holds questions.
      const fullPath = req.originalUrl.split('?')[0] ?? '';
      const entry = { requestId, method: req.method, path: fullPath, status: res.statusCode, ms: Math.round(performance.now() - started) };
      // Health and metrics are polled by probes and scrapers: keep them out of the info log.
      if (fullPath === '/api/health' || fullPath.startsWith('/api/health/') || fullPath === '/metrics') logger.debug(entry, 'request');
      else logger.info(entry, 'request');
    });
    next();
  };
}

function logOf(res: Response, fallback: Logger): Logger {
  const log: unknown = res.locals['log'];
  return log && typeof log === 'object' && 'info' in log ? (log as Logger) : fallback.child({ requestId: requestIdOf(res) });
}

