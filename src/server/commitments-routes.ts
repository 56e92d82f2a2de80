/**
 * HTTP routes of the commitments feature: `GET /api/commitments` (filter by town, year, topic,
 * status and words; JSON in pages of `limit` from `offset`, or the whole list as CSV with a UTF-8
 * BOM for Excel; read a few towns at a time), `GET /api/commitments/:id` (one
 * commitment with its follow-up evidence), and the staff view at `/commitments` (web/commitments.*).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import type { QaService } from '../qa/service.js';
import { commitmentCsvLines, COMMITMENTS_CSV_HEAD, listCommitments, rowOf, type CommitmentBook, type CommitmentFilter, type CommitmentRow } from '../commitments/book.js';
import { docIdOfRecord } from '../commitments/extract.js';
import { FOLLOW_UP_STATUSES, TOPICS, type Commitment, type FollowUpStatus, type Result, type Topic } from '../domain/commitment.js';
import { AppError } from '../errors.js';
import { methodNotAllowed } from './errors.js';
import { townBatches } from './town-batches.js';
import { hasControlChars } from '../domain/text.js';

export interface CommitmentRoutesOptions {
  /** The loaded service; throws the 503 AppError while none is loaded. */
  requireService: () => QaService;
  /** Folder holding commitments.html/.js/.css. Default: the project's web/. */
  webDir?: string;
  /** Towns read at a time by a listing over all towns. Default TOWNS_PER_READ (town-batches.ts). */
  townsPerRead?: number;
}

/** Most commitments one JSON page holds, and the default (the shipped corpus has 556 in all). */
export const MAX_PAGE_COMMITMENTS = 1000;

/** Which rows of a listing a JSON response holds. */
export interface ListingPage {
  offset: number;
  limit: number;
}

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Parameters GET /api/commitments accepts. Anything else is a client mistake worth a 400. */
const LIST_PARAMS = new Set(['town', 'year', 'topic', 'status', 'q', 'format', 'limit', 'offset']);
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
export function parseCommitmentQuery(query: Record<string, unknown>, towns: readonly string[]): { filter: CommitmentFilter; format: 'json' | 'csv'; page: ListingPage } {
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
  const whole = (name: string, max: number, min: number): number | undefined => {
    const value = single(query, name);
    if (value === undefined) return undefined;
    if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) throw new AppError('E_BAD_REQUEST', `commitments: ${name} must be a whole number from ${min} to ${max}`, { status: 400 });
    return Number(value);
  };
  const limit = whole('limit', MAX_PAGE_COMMITMENTS, 1);
  const offset = whole('offset', 100_000_000, 0);
  if (format === 'csv' && (limit !== undefined || offset !== undefined)) {
    throw new AppError('E_BAD_REQUEST', 'commitments: the CSV export holds the whole list; limit and offset page the JSON only', { status: 400 });
  }
  return { filter, format, page: { offset: offset ?? 0, limit: limit ?? MAX_PAGE_COMMITMENTS } };
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

/**
 * The listing's rows, a few towns at a time (a town named: that town), in the order of the towns
 * and, within a town, of its reports; with the book each part was read from.
 */
async function* listingParts(service: QaService, filter: CommitmentFilter, townsPerRead?: number): AsyncGenerator<{ book: CommitmentBook; rows: CommitmentRow[] }> {
  for (const part of townBatches(filter.town ? [filter.town] : service.towns, townsPerRead)) {
    const book = await service.commitments(part);
    yield { book, rows: listCommitments(book, filter) };
  }
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
      const { filter, format, page } = parseCommitmentQuery(req.query as Record<string, unknown>, service.towns);
      const parts = listingParts(service, filter, options.townsPerRead);
      if (format === 'csv') {
        // Written a part at a time: the whole list of a large corpus is never one string. A read
        // that fails after the first part ends the response early (the client sees it cut).
        let first = true;
        for await (const { rows } of parts) {
          if (first) {
            res.setHeader('Content-Type', 'text/csv; charset=utf-8');
            res.setHeader('Content-Disposition', csvFileName(filter));
            res.write(COMMITMENTS_CSV_HEAD);
            first = false;
          }
          res.write(commitmentCsvLines(rows));
        }
        res.end();
        return;
      }
      const out: ReturnType<typeof commitmentOut>[] = [];
      const byStatus: Record<string, number> = {};
      const byTopic: Record<string, number> = {};
      let total = 0;
      let indexVersion = '';
      for await (const { book, rows } of parts) {
        indexVersion ||= book.indexVersion;
        for (const r of rows) {
          if (total >= page.offset && total < page.offset + page.limit) out.push(commitmentOut(r));
          total++;
          byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
          byTopic[r.topic] = (byTopic[r.topic] ?? 0) + 1;
        }
      }
      res.json({
        commitments: out,
        total,
        offset: page.offset,
        limit: page.limit,
        hasMore: page.offset + out.length < total,
        byStatus,
        byTopic,
        indexVersion,
        tookMs: Math.round(performance.now() - started),
      });
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
