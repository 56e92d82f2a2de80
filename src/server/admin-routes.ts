/**
 * The admin API under /api/admin, for staff managing reports: list, upload, replace and remove
 * reports, and reindex while the server keeps answering. Mounted only when ADMIN_TOKEN is set;
 * every request needs `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time) and every
 * action, refused ones included, goes to the audit log. Uploads are the file's raw bytes (no
 * multipart): `curl --data-binary @report.pdf -H 'content-type: application/pdf' '…/documents?name=report.pdf'`.
 */
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { QaService } from '../qa/service.js';
import type { AuditEvent, AuditLog } from '../admin/audit.js';
import { cleanActor } from '../admin/audit.js';
import type { ReportEntry, ReportStore, UploadInput } from '../admin/reports.js';
import { AppError, isAppError } from '../errors.js';
import { methodNotAllowed, requestIdOf } from './errors.js';
import { ADMIN_UNAUTHORIZED, requireBearer } from './bearer-auth.js';
import { reindexError, type ReindexJob, type Reindexer } from './service-holder.js';

export interface AdminDeps {
  /** ADMIN_TOKEN: the bearer token every admin request must carry. */
  token: string;
  reports: ReportStore;
  reindexer: Reindexer;
  audit: AuditLog;
  /** The live service, for the reports' metadata. */
  getService: () => QaService | undefined;
  /** Largest accepted upload in bytes (config MAX_UPLOAD_MB). */
  maxUploadBytes: number;
}

const DOC_ID = /^[\w\u4e00-\u9fff-]{1,200}$/;

type Actor = Pick<AuditEvent, 'actor' | 'via' | 'ip' | 'requestId'>;

function actorOf(req: Request, res: Response): Actor {
  const requestId = requestIdOf(res);
  return {
    actor: cleanActor(req.get('x-admin-user'), 'admin'),
    via: 'http',
    ...(req.ip ? { ip: req.ip } : {}),
    ...(requestId ? { requestId } : {}),
  };
}

/** A single-valued query parameter (the app's simple parser turns repeats into arrays). */
function param(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('E_BAD_REQUEST', `${name}: given more than once`, { status: 400 });
  return value;
}

function flag(req: Request, name: string): boolean {
  const value = param(req, name);
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new AppError('E_BAD_REQUEST', `${name}: must be true or false`, { status: 400 });
}

function onlyParams(req: Request, known: readonly string[]): void {
  const unknown = Object.keys(req.query as object).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new AppError('E_BAD_REQUEST', `query: unknown parameter ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}; known: ${known.join(', ') || 'none'}`, { status: 400 });
  }
}

function docIdParam(req: Request): string {
  const value: unknown = req.params['docId'];
  const docId = typeof value === 'string' ? value : '';
  if (!DOC_ID.test(docId)) throw new AppError('E_DOCUMENT_NOT_FOUND', 'admin: no such report; GET /api/admin/documents lists them', { status: 404 });
  return docId;
}

/** The upload's file name: ?name=, else the X-File-Name header (percent-encoded UTF-8). */
function uploadName(req: Request): string | undefined {
  const fromQuery = param(req, 'name');
  if (fromQuery !== undefined) return fromQuery;
  const header = req.get('x-file-name');
  if (header === undefined) return undefined;
  try {
    return decodeURIComponent(header);
  } catch {
    throw new AppError('E_UPLOAD_INVALID', 'upload: X-File-Name must be percent-encoded UTF-8', { status: 400 });
  }
}

function uploadOf(req: Request): UploadInput {
  const type = (req.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/')) {
    throw new AppError('E_UPLOAD_INVALID', "upload: send the file's raw bytes, not a form (curl --data-binary @report.pdf …?name=report.pdf)", { status: 415 });
  }
  const body: unknown = req.body;
  return { name: uploadName(req), bytes: Buffer.isBuffer(body) ? body : Buffer.alloc(0), contentType: req.get('content-type') };
}

export function createAdminRouter(deps: AdminDeps): Router {
  const router = Router();
  const parseRaw = express.raw({ limit: deps.maxUploadBytes, type: () => true });
  /** The upload's bytes; a body refused here (too large, bad encoding) is audited as a failed upload. */
  const raw =
    (action: string): RequestHandler =>
    (req, res, next) => {
      parseRaw(req, res, (err?: unknown) => {
        if (err) {
          const status = (err as { status?: unknown }).status;
          deps.audit.record({ ...actorOf(req, res), action, outcome: 'failed', detail: { status: typeof status === 'number' ? status : 400 } });
        }
        next(err);
      });
    };

  /** Runs an action, auditing its outcome; errors still reach the app's error handler. */
  const audited =
    (action: string, handle: (req: Request, res: Response, actor: Actor) => Promise<{ target?: string; detail?: Record<string, unknown> }>): RequestHandler =>
    async (req, res, next) => {
      const actor = actorOf(req, res);
      try {
        const { target, detail } = await handle(req, res, actor);
        deps.audit.record({ ...actor, action, outcome: 'ok', ...(target ? { target } : {}), ...(detail ? { detail } : {}) });
      } catch (err) {
        const code = isAppError(err) ? err.code : 'E_INTERNAL';
        const target = typeof req.params['docId'] === 'string' ? req.params['docId'] : typeof req.query['name'] === 'string' ? req.query['name'] : undefined;
        deps.audit.record({ ...actor, action, outcome: 'failed', ...(target ? { target: target.slice(0, 200) } : {}), detail: { code } });
        next(err);
      }
    };

  /** Starts a reindex for `actor`, auditing its end; returns the job as it stands now. */
  const startReindex = (actor: Actor, full: boolean): { job: ReindexJob; done: Promise<ReindexJob> } => {
    const started = deps.reindexer.start({ full, trigger: `${actor.via}:${actor.actor}` });
    void started.done.then((job) => {
      deps.audit.record({
        ...actor,
        action: 'reindex.finished',
        outcome: job.state === 'succeeded' ? 'ok' : 'failed',
        detail: { job: job.id, ...(job.summary ? { indexVersion: job.summary.indexVersion, documents: job.summary.documents, skipped: job.summary.skipped.length } : {}), ...(job.error ? { code: job.error.code } : {}) },
      });
    });
    return started;
  };

  // Authentication before anything else, body parsing included.
  router.use(
    requireBearer({
      tokens: [deps.token],
      realm: 'admin',
      message: ADMIN_UNAUTHORIZED,
      onDenied: (req, res, reason) => deps.audit.record({ ...actorOf(req, res), action: 'auth', outcome: 'denied', detail: { method: req.method, path: req.path.slice(0, 200), reason } }),
    }),
  );

  router
    .route('/documents')
    .get(
      audited('documents.list', async (req, res) => {
        onlyParams(req, []);
        const service = deps.getService();
        const counts = new Map<string, number>();
        const documents = new Map<string, ReportEntry['meta']>();
        for (const d of service?.listDocuments() ?? []) {
          counts.set(d.docId, d.chunks);
          documents.set(d.docId, { title: d.title, town: d.town, district: d.district, date: d.date, years: d.years, chunks: d.chunks });
        }
        const last = deps.reindexer.lastFinished();
        const lastFailures = last?.summary && last.startedAt ? { startedAt: last.startedAt, skipped: last.summary.skipped } : undefined;
        const reports = await deps.reports.list({ files: service?.index.generation.files, documents, lastFailures });
        res.json({
          documents: reports,
          index: service ? { indexVersion: service.indexVersion, ...service.stats() } : null,
          reindex: deps.reindexer.status() ?? null,
        });
        return { detail: { count: reports.length } };
      }),
    )
    .post(
      raw('documents.add'),
      audited('documents.add', async (req, res, actor) => {
        onlyParams(req, ['name', 'reindex']);
        const reindex = flag(req, 'reindex');
        const saved = await deps.reports.add(uploadOf(req));
        const job = reindex ? startReindex(actor, false).job : undefined;
        res.status(201).json({ document: { ...saved, status: 'pending' }, ...(job ? { reindex: job } : {}) });
        return { target: saved.file, detail: { docId: saved.docId, bytes: saved.bytes, sha256: saved.sha256 } };
      }),
    )
    .all(methodNotAllowed('GET, POST'));

  router
    .route('/documents/:docId')
    .put(
      raw('documents.replace'),
      audited('documents.replace', async (req, res, actor) => {
        onlyParams(req, ['name', 'reindex']);
        const docId = docIdParam(req);
        const reindex = flag(req, 'reindex');
        const saved = await deps.reports.replace(docId, uploadOf(req));
        const job = reindex ? startReindex(actor, false).job : undefined;
        res.json({ document: { ...saved, status: 'pending' }, ...(job ? { reindex: job } : {}) });
        return { target: saved.file, detail: { docId, replaced: saved.replaced, bytes: saved.bytes, sha256: saved.sha256 } };
      }),
    )
    .delete(
      audited('documents.remove', async (req, res, actor) => {
        onlyParams(req, ['reindex']);
        const docId = docIdParam(req);
        const reindex = flag(req, 'reindex');
        const removed = await deps.reports.remove(docId);
        const job = reindex ? startReindex(actor, false).job : undefined;
        res.json({ document: { ...removed, status: 'deleted' }, ...(job ? { reindex: job } : {}) });
        return { target: removed.file, detail: { docId, trashedAs: removed.trashedAs } };
      }),
    )
    .all(methodNotAllowed('PUT, DELETE'));

  router
    .route('/reindex')
    .get((req, res) => {
      onlyParams(req, []);
      res.json({ reindex: deps.reindexer.status() ?? null });
    })
    .post(
      audited('reindex', async (req, res, actor) => {
        onlyParams(req, ['wait', 'full']);
        const wait = flag(req, 'wait');
        const full = flag(req, 'full');
        const { job, done } = startReindex(actor, full);
        if (!wait) {
          res.status(202).json({ reindex: job });
          return { detail: { job: job.id, full, wait } };
        }
        const finished = await done;
        if (finished.state === 'failed') throw reindexError(finished);
        res.json({ reindex: finished });
        return { detail: { job: finished.id, full, wait } };
      }),
    )
    .all(methodNotAllowed('GET, POST'));

  // Unknown admin paths: 404 here, so they never fall through to the public routes' 503.
  router.use((_req, _res, next) => next(new AppError('E_NOT_FOUND', 'admin: no such endpoint; see /api/admin/documents and /api/admin/reindex', { status: 404 })));
  return router;
}
