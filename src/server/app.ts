/**
 * The HTTP API over the QA service (contract: docs/design.md, "HTTP contract"). `createApp(deps)`
 * builds the Express app from what the entry point hands it, so tests build the very same app.
 * The service may arrive after the server listens: until then /api answers 503.
 */
import express, { type Express } from 'express';
import { pino, type Logger } from 'pino';
import type { AppError } from '../errors.js';
import type { QaService } from '../qa/types.js';
import { createAskRoutes } from './ask-routes.js';
import { createAvailability, type BuildProgress } from './availability.js';
import { createDocumentsRoutes, createSearchRoute } from './documents-routes.js';
import { errorHandler, methodNotAllowed, notFound } from './errors.js';
import { createHealthRoutes } from './health-routes.js';
import { requestContext } from './request-context.js';
import { toCitation } from './responses.js';
import { apiRateLimit } from './rate-limit.js';
import type { HitCounter } from '../store/postgres/rate-limits.js';
import { apiCors, securityHeaders } from './security.js';
import { createStaticRoutes } from './static.js';
import { createOpenAiRoutes } from './openai-compat.js';
import { createSuggestionsRoute } from './suggestions.js';
import { createCommitmentRoutes } from './commitments-routes.js';
import { createFeedbackFeature, type FeedbackDeps } from './feedback-routes.js';
import { createDraftingRoutes } from './drafting-routes.js';
import { createRequestParsers } from './validation.js';
import { createAdminRouter, type AdminDeps } from './admin-routes.js';
import { refuseWhileStopping, rejectMalformedQuery } from './hardening.js';
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
  /** Rate-limit counts shared with the other replicas (INDEX_STORE=postgres), for /api, /v1 and feedback. Default: in memory. */
  rateLimitCounter?: HitCounter | undefined;
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

export { describeBuild, type BuildProgress } from './availability.js';
export { BODY_LIMIT } from './hardening.js';

export function createApp(deps: AppDeps): Express {
  const availability = createAvailability({ getService: deps.getService ?? (() => deps.service), getLoadError: deps.getLoadError ?? (() => undefined), getBuildProgress: deps.getBuildProgress });
  const { requireService } = availability;
  const logger = deps.logger ?? pino({ level: 'silent' });
  const parsers = createRequestParsers({ maxQuestionChars: deps.maxQuestionChars });
  const feedback = createFeedbackFeature({ ...deps.feedback, rateLimitCounter: deps.rateLimitCounter, requireService: () => requireService(), logQuestions: deps.logQuestions ?? false, logger });

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
  const limiter = apiRateLimit({ perMinute: deps.rateLimitPerMinute ?? 0, counter: deps.rateLimitCounter, logger });
  app.use('/api', apiCors({ allowedOrigins: deps.allowedOrigins ?? [] }), limiter);
  app.use('/v1', limiter);
  // After the security headers and CORS, so these refusals carry them too.
  const isShuttingDown = deps.isShuttingDown ?? (() => false);
  app.use(refuseWhileStopping(isShuttingDown), rejectMalformedQuery());

  // Staff manage reports even while no index is loaded (an upload and a reindex make the first one).
  if (deps.admin) app.use('/api/admin', feedback.adminRouter(deps.admin), createAdminRouter(deps.admin));

  // Every /api route but health needs the service.
  app.use('/api', availability.gate());

  app.use(createAskRoutes({ requireService, parsers, defaultTopK: deps.defaultTopK, logger, logQuestions: deps.logQuestions ?? false, remember: (question, output, town) => feedback.remember(question, output, town) }));
  // Drafting (issue 15): grouped, paged, exact and "more like this" search, similar sentences,
  // export, indicators and their pages. Before /api/search, which it extends when asked to.
  app.use(createDraftingRoutes({ requireService, maxQuestionChars: deps.maxQuestionChars }));
  app.use(createSearchRoute({ requireService, parsers }));
  app.use(createDocumentsRoutes({ requireService }));
  app.use(createHealthRoutes({ availability, isShuttingDown }));
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
