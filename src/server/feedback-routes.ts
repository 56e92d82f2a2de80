/**
 * HTTP side of feedback and the widget's per-town settings (issue 16):
 * - `POST /api/feedback` {answerId, rating: up|down, reason?, comment?}: a resident rates an answer;
 *   stored (durably, with the question and answer it rates) only then.
 * - `GET /api/next-questions?answerId=`: two or three answerable follow-ups for that answer.
 * - `GET /api/widget-settings[?town=]`: welcome line, preset questions, contact line, office hours.
 * - `GET /api/admin/feedback`, `GET /api/admin/unanswered` (admin token; `?format=csv`, `?town=`):
 *   what staff read, grouped by similar wording; `/admin/insights` is their page.
 * `remember()` gives each answer of /api/ask and its stream the `answerId` these refer to.
 */
import path from 'node:path';
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AuditLog } from '../admin/audit.js';
import type { QaService } from '../qa/service.js';
import { cleanActor } from '../admin/audit.js';
import { AppError } from '../errors.js';
import { createAnswerRegistry, type AnswerLike, type AnswerRegistry } from '../feedback/answers.js';
import { feedbackEntries, groupQuestions, groupsToCsv, unansweredEntries, type Embed, type QuestionGroup } from '../feedback/insights.js';
import { createNextQuestions, type NextQuestions } from '../feedback/next-questions.js';
import { createMemoryFeedbackStore, type FeedbackStore, type StoredEntry } from '../feedback/store.js';
import { EMPTY_TOWNS_CONFIG, settingsFor, type TownsConfig } from '../towns-config.js';
import { methodNotAllowed, requestIdOf } from './errors.js';
import { requireUtf8Body } from './hardening.js';
import { ADMIN_UNAUTHORIZED, requireBearer } from './bearer-auth.js';
import { apiRateLimit } from './rate-limit.js';
import type { HitCounter } from '../store/postgres/rate-limits.js';
import { DEFAULT_WEB_DIR } from './static.js';
import { hasControlChars } from '../domain/text.js';

/** The quick reasons a 👎 may carry (the widget's buttons); anything else is a client mistake. */
export const FEEDBACK_REASONS = ['答案不对', '没有回答我的问题', '引用不对', '其他'] as const;
/** Longest comment, in characters: a sentence or two, never a document. */
export const MAX_COMMENT_CHARS = 500;

export interface FeedbackDeps {
  /** Answers that may be rated (default: in memory, one day). */
  answers?: AnswerRegistry;
  /** Where ratings go (config FEEDBACK_DIR: a JSON-lines file). Default: memory. */
  store?: FeedbackStore;
  /** The app's embedding model, for grouping questions and choosing next questions. Default: none (exact wording groups; no next questions). */
  embed?: Embed | undefined;
  /** Per-town widget settings (config/towns.json). Default: none. */
  towns?: TownsConfig;
  /** Feedback posts per minute per client (config FEEDBACK_PER_MINUTE); 0: only the /api limit. Default 10. */
  perMinute?: number;
}

export interface FeedbackFeature {
  /** Public routes (mount at the app's root, after the service gate). */
  router: Router;
  /** The staff routes, mounted under /api/admin when the admin API is on. */
  adminRouter(admin: { token: string; audit: AuditLog }): Router;
  /** Files an answer for later feedback; returns its fresh answerId. */
  remember(question: string, output: AnswerLike, town: string | undefined): string;
}

export interface FeedbackFeatureOptions extends FeedbackDeps {
  requireService: () => QaService;
  /** The app's shared rate-limit counts (AppDeps.rateLimitCounter); default: in memory. */
  rateLimitCounter?: HitCounter | undefined;
  /** Log unanswered questions into the store even without feedback (config LOG_QUESTIONS). */
  logQuestions: boolean;
  logger: Logger;
}

const feedbackBody = z.strictObject({
  answerId: z.string({ error: 'answerId: required, a string from the answer' }).max(100, { error: 'answerId: unknown answer' }),
  rating: z.enum(['up', 'down'], { error: 'rating: must be "up" or "down"' }),
  reason: z.enum(FEEDBACK_REASONS, { error: `reason: must be one of ${FEEDBACK_REASONS.join(', ')}` }).optional(),
  comment: z
    .string({ error: 'comment: must be a string' })
    .transform((c) => c.trim())
    .refine((c) => [...c].length <= MAX_COMMENT_CHARS, { error: `comment: at most ${MAX_COMMENT_CHARS} characters` })
    // Control characters (but tab and line breaks) are refused, as in questions: they only forge log lines.
    .refine((c) => !hasControlChars(c), { error: 'comment: control characters are not allowed' })
    .optional(),
});

function badRequest(error: z.ZodError): AppError {
  const issue = error.issues[0];
  if (issue?.code === 'unrecognized_keys') return new AppError('E_BAD_REQUEST', `body: unknown field "${String(issue.keys[0]).slice(0, 40)}"; known: answerId, rating, reason, comment`, { status: 400 });
  if (issue && issue.path.length === 0) return new AppError('E_BAD_REQUEST', 'body: must be a JSON object {answerId, rating, reason?, comment?}', { status: 400 });
  return new AppError('E_BAD_REQUEST', issue?.message ?? 'body: invalid', { status: 400 });
}

function jsonOnly(req: Request, _res: Response, next: NextFunction): void {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') next();
  else next(new AppError('E_BAD_REQUEST', `body: Content-Type must be application/json${type ? `, got ${type.slice(0, 60)}` : ''}`, { status: 415 }));
}

/** Single-valued query parameters, and only the known ones. */
function queryOf(req: Request, known: readonly string[]): Record<string, string | undefined> {
  const query = req.query as Record<string, unknown>;
  const unknown = Object.keys(query).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new AppError('E_BAD_REQUEST', `query: unknown parameter "${unknown[0]!.slice(0, 40)}"; known: ${known.join(', ') || 'none'}`, { status: 400 });
  const out: Record<string, string | undefined> = {};
  for (const k of known) {
    const v = query[k];
    if (v !== undefined && typeof v !== 'string') throw new AppError('E_BAD_REQUEST', `${k}: given more than once`, { status: 400 });
    out[k] = v?.trim() || undefined;
  }
  return out;
}

/**
 * One next-question chooser per loaded service (one index generation): a reindexed corpus gets
 * fresh candidates and checks. Module-wide, so the entry point can warm the one the routes use.
 */
const choosers = new WeakMap<QaService, NextQuestions>();

function chooserOf(service: QaService, embed: Embed): NextQuestions {
  let chooser = choosers.get(service);
  if (!chooser) choosers.set(service, (chooser = createNextQuestions(service, embed)));
  return chooser;
}

/** Checks every town's next-question candidates now, so the first answers get their chips fast. */
export function warmNextQuestions(service: QaService, embed: Embed): Promise<void> {
  return chooserOf(service, embed).warm();
}

export function createFeedbackFeature(options: FeedbackFeatureOptions): FeedbackFeature {
  const answers = options.answers ?? createAnswerRegistry();
  const store = options.store ?? createMemoryFeedbackStore();
  const towns = options.towns ?? EMPTY_TOWNS_CONFIG;
  const embed = options.embed;
  const chooserFor = (service: QaService): NextQuestions | undefined => (embed ? chooserOf(service, embed) : undefined);
  // Question vectors for grouping, kept across requests (questions repeat; the model is fixed).
  const vectors = new Map<string, Promise<Float32Array>>();
  const groupEmbed: Embed = (text) => {
    if (!embed) return Promise.resolve(new Float32Array([1]));
    let v = vectors.get(text);
    if (!v) {
      if (vectors.size > 50_000) vectors.clear();
      vectors.set(text, (v = embed(text)));
      v.catch(() => vectors.delete(text));
    }
    return v;
  };

  const router = Router();
  const limit = apiRateLimit({ perMinute: options.perMinute ?? 10, counter: options.rateLimitCounter, prefix: 'feedback:', logger: options.logger });

  router
    .route('/api/feedback')
    .post(limit, jsonOnly, express.json({ limit: '8kb', strict: true, type: 'application/json', verify: requireUtf8Body }), async (req, res) => {
      const parsed = feedbackBody.safeParse(req.body);
      if (!parsed.success) throw badRequest(parsed.error);
      const { answerId, rating, reason, comment } = parsed.data;
      const record = answers.get(answerId);
      if (!record) throw new AppError('E_BAD_REQUEST', 'answerId: unknown answer (ask first; an answer can be rated for a day)', { status: 400 });
      await store.append({ kind: 'feedback', ...record, rating, ...(reason ? { feedbackReason: reason } : {}), ...(comment ? { comment } : {}), ratedAt: new Date().toISOString() });
      res.status(201).json({ feedback: { answerId, rating } });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/next-questions')
    .get(async (req, res) => {
      const service = options.requireService();
      const { answerId } = queryOf(req, ['answerId']);
      const record = answerId ? answers.get(answerId) : undefined;
      if (!record) throw new AppError('E_BAD_REQUEST', 'answerId: unknown answer', { status: 400 });
      const questions = (await chooserFor(service)?.forAnswer(record)) ?? [];
      res.setHeader('Cache-Control', 'no-store');
      res.json({ questions });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/api/widget-settings')
    .get((req, res) => {
      const { town } = queryOf(req, ['town']);
      res.setHeader('Cache-Control', 'public, max-age=300');
      res.json({ settings: settingsFor(towns, town) });
    })
    .all(methodNotAllowed('GET, HEAD'));

  // The staff page; its data comes from the admin API with the token the page asks for.
  router.get('/admin/insights', (_req, res, next) => {
    res.sendFile('insights.html', { root: path.resolve(DEFAULT_WEB_DIR), headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' } }, (err) => {
      if (err) next(err);
    });
  });

  const listRoute =
    (pick: (entries: StoredEntry[]) => StoredEntry[], name: string, audit?: AuditLog): RequestHandler =>
    async (req, res) => {
      const { format = 'json', town } = queryOf(req, ['format', 'town']);
      if (format !== 'json' && format !== 'csv') throw new AppError('E_BAD_REQUEST', 'format: must be json or csv', { status: 400 });
      const entries = pick(await store.list()).filter((e) => !town || e.town === town);
      const groups: QuestionGroup[] = await groupQuestions(entries, groupEmbed);
      res.setHeader('Cache-Control', 'no-store');
      // Residents' questions leave the server here: who read them goes to the audit log.
      const requestId = requestIdOf(res);
      audit?.record({ actor: cleanActor(req.get('x-admin-user'), 'admin'), via: 'http', ...(req.ip ? { ip: req.ip } : {}), ...(requestId ? { requestId } : {}), action: `${name}.list`, outcome: 'ok', detail: { format, groups: groups.length, ...(town ? { town } : {}) } });
      if (format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${name}.csv"`);
        res.send(groupsToCsv(groups));
        return;
      }
      res.json({ groups, total: entries.length, grouping: embed ? 'embedding' : 'wording' });
    };

  return {
    router,
    adminRouter(admin) {
      const adminRouter = Router();
      // The admin API's own check (bearer token compared in constant time); refusals are audited.
      adminRouter.use(
        ['/feedback', '/unanswered'],
        requireBearer({
          tokens: [admin.token],
          realm: 'admin',
          message: ADMIN_UNAUTHORIZED,
          onDenied: (req, _res, reason) => admin.audit.record({ actor: 'admin', via: 'http', ...(req.ip ? { ip: req.ip } : {}), action: 'auth', outcome: 'denied', detail: { method: req.method, path: req.path.slice(0, 200), reason } }),
        }),
      );
      adminRouter.route('/feedback').get(listRoute(feedbackEntries, 'feedback', admin.audit)).all(methodNotAllowed('GET, HEAD'));
      adminRouter.route('/unanswered').get(listRoute(unansweredEntries, 'unanswered', admin.audit)).all(methodNotAllowed('GET, HEAD'));
      return adminRouter;
    },
    remember(question, output, town) {
      const record = answers.remember(question, output, town);
      if (options.logQuestions && record.status !== 'answered') {
        store.append({ kind: 'unanswered', ...record }).catch((err: unknown) => options.logger.warn({ err }, 'feedback: could not log an unanswered question'));
      }
      return record.answerId;
    },
  };
}
