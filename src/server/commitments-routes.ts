/**
 * HTTP routes of the commitments feature: `GET /api/commitments` (filter by town, year, topic,
 * status and words; JSON, or CSV with a UTF-8 BOM for Excel), `GET /api/commitments/:id` (one
 * commitment with its follow-up evidence), and the staff view at `/commitments` (web/commitments.*).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import type { QaService } from '../qa/service.js';
import { commitmentsToCsv, listCommitments, rowOf, type CommitmentBook, type CommitmentFilter, type CommitmentRow } from '../commitments/book.js';
import { docIdOfRecord } from '../commitments/extract.js';
import { FOLLOW_UP_STATUSES, TOPICS, type Commitment, type FollowUpStatus, type Result, type Topic } from '../domain/commitment.js';
import { AppError } from '../errors.js';
import { methodNotAllowed } from './errors.js';
import { hasControlChars } from '../domain/text.js';

export interface CommitmentRoutesOptions {
  /** The loaded service; throws the 503 AppError while none is loaded. */
  requireService: () => QaService;
  /** Folder holding commitments.html/.js/.css. Default: the project's web/. */
  webDir?: string;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Parameters GET /api/commitments accepts. Anything else is a client mistake worth a 400. */
const LIST_PARAMS = new Set(['town', 'year', 'topic', 'status', 'q', 'format']);
const MAX_Q_CHARS = 200;
/** Commitment ids as extract.ts makes them: <docId>:c<offset>-<n>. */
const COMMITMENT_ID = /^[\w\u4e00-\u9fff-]{1,200}:c\d{1,9}-\d{1,4}$/;

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('E_BAD_REQUEST', `commitments: ${name} given more than once`, { status: 400 });
  const text = value.trim();
  if (hasControlChars(text, { lineBreaks: false })) throw new AppError('E_BAD_REQUEST', `commitments: ${name} contains control characters`, { status: 400 });
  return text === '' ? undefined : text;
}

/** Validates the query of GET /api/commitments. */
export function parseCommitmentQuery(query: Record<string, unknown>, towns: readonly string[]): { filter: CommitmentFilter; format: 'json' | 'csv' } {
  const unknown = Object.keys(query).filter((k) => !LIST_PARAMS.has(k));
  if (unknown.length > 0) {
    throw new AppError('E_UNKNOWN_FILTER', `commitments: unknown parameter ${unknown.map((k) => `"${k.slice(0, 30)}"`).join(', ')}; use ${[...LIST_PARAMS].join(', ')}`, { status: 400 });
  }
  const filter: CommitmentFilter = {};
  const town = single(query, 'town');
  if (town !== undefined) {
    if (!towns.includes(town)) throw new AppError('E_UNKNOWN_FILTER', `commitments: unknown town "${town.slice(0, 50)}"; known: ${towns.join(', ')}`, { status: 400 });
    filter.town = town;
  }
  const year = single(query, 'year');
  if (year !== undefined) {
    if (!/^\d{4}$/.test(year) || Number(year) < 1949 || Number(year) > 2100) throw new AppError('E_BAD_REQUEST', 'commitments: year must be a four-digit year such as 2023', { status: 400 });
    filter.year = Number(year);
  }
  const topic = single(query, 'topic');
  if (topic !== undefined) {
    if (!(TOPICS as readonly string[]).includes(topic)) throw new AppError('E_UNKNOWN_FILTER', `commitments: unknown topic; one of ${TOPICS.join(', ')}`, { status: 400 });
    filter.topic = topic as Topic;
  }
  const status = single(query, 'status');
  if (status !== undefined) {
    if (!(FOLLOW_UP_STATUSES as readonly string[]).includes(status)) throw new AppError('E_UNKNOWN_FILTER', `commitments: unknown status; one of ${FOLLOW_UP_STATUSES.join(', ')}`, { status: 400 });
    filter.status = status as FollowUpStatus;
  }
  const q = single(query, 'q');
  if (q !== undefined) {
    if ([...q].length > MAX_Q_CHARS) throw new AppError('E_BAD_REQUEST', `commitments: q is limited to ${MAX_Q_CHARS} characters`, { status: 400 });
    filter.q = q;
  }
  const format = single(query, 'format') ?? 'json';
  if (format !== 'json' && format !== 'csv') throw new AppError('E_BAD_REQUEST', 'commitments: format must be json or csv', { status: 400 });
  return { filter, format };
}

/** Where a record's sentence is, in the citation shape the rest of the API uses (quote: the clause). */
function citationOf(r: Commitment | Result) {
  return {
    chunkId: r.chunkId ?? '',
    docId: r.docId,
    title: r.title,
    town: r.town,
    date: r.date,
    section: r.section,
    role: r.role,
    text: r.sentence,
    start: r.sentenceStart,
    end: r.sentenceEnd,
    quote: { start: r.start, end: r.end },
  };
}

function targetOut(t: Commitment['targets'][number]) {
  return {
    value: t.value,
    ...(t.valueMax !== undefined ? { valueMax: t.valueMax } : {}),
    unit: t.unit,
    what: t.what,
    ...(t.qualifier ? { qualifier: t.qualifier } : {}),
    text: t.text,
    start: t.start,
    end: t.end,
  };
}

/** A listed commitment as the API returns it: exactly these fields. */
export function commitmentOut(r: CommitmentRow) {
  return {
    id: r.id,
    town: r.town,
    year: r.year,
    topic: r.topic,
    action: r.action,
    firmness: r.firmness,
    clause: r.clause,
    object: r.object,
    targets: r.targets.map(targetOut),
    ...(r.deadline ? { deadline: r.deadline } : {}),
    status: r.status,
    statusNote: r.statusNote,
    citation: citationOf(r),
  };
}

function detailOut(book: CommitmentBook, c: Commitment, service: QaService) {
  const f = book.followUps.get(c.id);
  const meta = (docId: string) => service.documentSummary(docId);
  return {
    commitment: commitmentOut(rowOf(book, c)),
    followUp: {
      status: f?.status ?? 'no-later-report',
      note: f?.note ?? '',
      laterDocuments: (f?.laterDocIds ?? []).map((id) => {
        const d = meta(id);
        return { docId: id, title: d?.title ?? id, date: d?.date ?? '' };
      }),
      evidence: (f?.evidence ?? []).map((e) => ({
        score: e.score,
        clause: e.result.clause,
        completed: e.result.completed,
        targets: e.result.targets.map(targetOut),
        checks: e.checks.map((k) => ({ target: targetOut(k.target), ...(k.achieved ? { achieved: targetOut(k.achieved) } : {}), ...(k.reached !== undefined ? { reached: k.reached } : {}) })),
        citation: citationOf(e.result),
      })),
    },
  };
}

function counts(rows: readonly CommitmentRow[]) {
  const byStatus: Record<string, number> = {};
  const byTopic: Record<string, number> = {};
  for (const r of rows) {
    byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    byTopic[r.topic] = (byTopic[r.topic] ?? 0) + 1;
  }
  return { byStatus, byTopic };
}

/** A file name for the CSV download: ASCII fallback plus the UTF-8 name (承诺-牛塘镇-2022.csv). */
function csvFileName(filter: CommitmentFilter): string {
  const parts = ['承诺', filter.town, filter.year, filter.topic, filter.status].filter((p) => p !== undefined && p !== '');
  const name = `${parts.join('-')}.csv`;
  return `attachment; filename="commitments.csv"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export function createCommitmentRoutes(options: CommitmentRoutesOptions): Router {
  const router = Router();
  const webDir = path.resolve(options.webDir ?? DEFAULT_WEB_DIR);

  router
    .route('/api/commitments')
    .get(async (req, res) => {
      const started = performance.now();
      const service = options.requireService();
      const { filter, format } = parseCommitmentQuery(req.query as Record<string, unknown>, service.towns);
      // A town's listing reads that town's records only.
      const book = await service.commitments(filter.town ? [filter.town] : undefined);
      const rows = listCommitments(book, filter);
      if (format === 'csv') {
        res.setHeader('Content-Type', 'text/csv; charset=utf-8');
        res.setHeader('Content-Disposition', csvFileName(filter));
        res.send(commitmentsToCsv(rows));
        return;
      }
      res.json({ commitments: rows.map(commitmentOut), total: rows.length, ...counts(rows), indexVersion: book.indexVersion, tookMs: Math.round(performance.now() - started) });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/api/commitments/:id')
    .get(async (req, res) => {
      const service = options.requireService();
      const id = req.params['id'] ?? '';
      // The book of the town of the commitment's document holds it.
      const town = COMMITMENT_ID.test(id) ? service.documentSummary(docIdOfRecord(id))?.town : undefined;
      const book = town === undefined ? undefined : await service.commitments([town]);
      const commitment = book?.byId.get(id);
      if (!book || !commitment) {
        throw new AppError('E_NOT_FOUND', COMMITMENT_ID.test(id) ? `commitments: no commitment "${id}"; GET /api/commitments lists them` : 'commitments: no such commitment; GET /api/commitments lists them', { status: 404 });
      }
      res.json(detailOut(book, commitment, service));
    })
    .all(methodNotAllowed('GET, HEAD'));

  // The staff view: a page and its two assets, from web/ (no inline script or style: the CSP forbids them).
  const page = (file: string, type: string) => (_req: unknown, res: Response, next: NextFunction) => {
    res.sendFile(file, { root: webDir, headers: { 'Content-Type': type, 'Cache-Control': 'no-cache' }, dotfiles: 'deny' }, (err?: Error & { status?: number }) => {
      if (!err) return;
      if (err.status === 404) next();
      else if (!res.headersSent) next(err);
    });
  };
  router.get('/commitments', page('commitments.html', 'text/html; charset=utf-8'));
  router.get('/commitments/commitments.js', page('commitments.js', 'text/javascript; charset=utf-8'));
  router.get('/commitments/commitments.css', page('commitments.css', 'text/css; charset=utf-8'));

  return router;
}
