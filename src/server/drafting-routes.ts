/**
 * HTTP routes of the drafting workspace (issue 15): `GET /api/search` with grouping, paging,
 * exact phrases and "more like this" (only when one of those parameters is given; the plain
 * contract stays app.ts's), `GET /api/similar` ("how others put it"), `POST /api/drafts/export`
 * (docx or Markdown with footnotes), `GET /api/indicators`, and the pages /search, /basket,
 * /similar and /indicators (web/*.html; their scripts and styles are ordinary /assets/ files).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router, json, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { QaService } from '../qa/service.js';
import { exportDocx, exportMarkdown, EXPORT_FORMATS, MAX_EXPORT_ITEMS, MAX_NOTE_CHARS, MAX_TITLE_CHARS, resolveDraftItems } from '../drafting/export.js';
import { draftSearch, type DraftSearchRequest } from '../drafting/search.js';
import { findSimilarSentences } from '../drafting/similar.js';
import { filterIndicators, indicatorColumns, indicatorRows, indicatorsToCsv, type IndicatorFigure, type IndicatorFilter } from '../drafting/indicators.js';
import { townBatches } from './town-batches.js';
import { AppError } from '../errors.js';
import { methodNotAllowed } from './errors.js';
import { DEFAULT_WEB_DIR } from './static.js';
import { createRequestParsers, SEARCH_K_DEFAULT } from './validation.js';
import { hasControlChars, stripControlChars } from '../domain/text.js';

export interface DraftingRoutesOptions {
  /** The loaded service; throws the 503 AppError while none is loaded. */
  requireService: () => QaService;
  /** Longest accepted query (config MAX_QUESTION_CHARS). */
  maxQuestionChars: number;
  /** Folder holding the pages. Default: the project's web/. */
  webDir?: string;
}

/** Parameters that make a search a drafting search; without any of them app.ts answers. */
const DRAFT_SEARCH_PARAMS = ['group', 'page', 'like'] as const;
const MAX_PAGE = 100;
const SIMILAR_K_DEFAULT = 8;
const SIMILAR_K_MAX = 30;
/** Passage ids as the index makes them (docId, a separator, a number); bounded before any lookup. */
const CHUNK_ID = /^[\w\u4e00-\u9fff:#.-]{1,300}$/;
/** An export request holds ids, offsets and notes: 200 items with long notes fit well within this. */
const EXPORT_BODY_LIMIT = '512kb';

const PAGES: Record<string, string> = { '/search': 'search.html', '/basket': 'basket.html', '/similar': 'similar.html', '/indicators': 'indicators.html' };

function single(query: Record<string, unknown>, name: string, where: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('E_BAD_REQUEST', `${where}: ${name} given more than once`, { status: 400 });
  return value.trim() === '' ? undefined : value.trim();
}

function integer(value: string | undefined, name: string, min: number, max: number, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new AppError('E_BAD_REQUEST', `${where}: ${name} must be an integer between ${min} and ${max}`, { status: 400 });
  }
  return Number(value);
}

function chunkIdParam(value: string | undefined, name: string, where: string): string {
  if (value === undefined) throw new AppError('E_BAD_REQUEST', `${where}: ${name} is required`, { status: 400 });
  if (!CHUNK_ID.test(value)) throw new AppError('E_BAD_REQUEST', `${where}: ${name} is not a passage id`, { status: 400 });
  return value;
}

/** Validates a drafting search: the shared parser checks q, k and the filters, this the rest. */
export function parseDraftSearchQuery(query: Record<string, unknown>, parsers: ReturnType<typeof createRequestParsers>): DraftSearchRequest {
  const { group, page, like, ...base } = query;
  const groupValue = single({ group }, 'group', 'search');
  if (groupValue !== undefined && groupValue !== 'town') throw new AppError('E_BAD_REQUEST', 'search: group must be "town"', { status: 400 });
  const likeValue = single({ like }, 'like', 'search');
  const pageValue = integer(single({ page }, 'page', 'search'), 'page', 1, MAX_PAGE, 'search') ?? 1;
  // "More like this" needs no words: the shared parser still checks k and the filters.
  const hasQ = typeof base['q'] === 'string' && base['q'].trim() !== '';
  const parsed = parsers.parseSearchQuery(likeValue !== undefined && !hasQ ? { ...base, q: '相似' } : base);
  return {
    ...(likeValue !== undefined ? { like: chunkIdParam(likeValue, 'like', 'search') } : {}),
    ...(likeValue === undefined || hasQ ? { q: parsed.q } : {}),
    filters: parsed.filters,
    pageSize: query['k'] === undefined ? SEARCH_K_DEFAULT : parsed.k,
    page: pageValue,
    group: groupValue === 'town',
  };
}

const exportSchema = z.strictObject(
  {
    title: z.string({ error: 'title: must be a string' }).max(MAX_TITLE_CHARS, { error: `title: at most ${MAX_TITLE_CHARS} characters` }).refine((t) => !hasControlChars(t), { error: 'title: contains control characters' }).optional(),
    format: z.enum(EXPORT_FORMATS, { error: `format: must be one of ${EXPORT_FORMATS.join(', ')}` }),
    items: z
      .array(
        z.strictObject(
          {
            chunkId: z.string({ error: 'chunkId: must be a string' }).regex(CHUNK_ID, { error: 'chunkId: not a passage id' }),
            start: z.number({ error: 'start: must be a number' }).int({ error: 'start: must be an integer' }).min(0, { error: 'start: must not be negative' }).optional(),
            end: z.number({ error: 'end: must be a number' }).int({ error: 'end: must be an integer' }).min(1, { error: 'end: must be positive' }).optional(),
            note: z.string({ error: 'note: must be a string' }).max(MAX_NOTE_CHARS, { error: `note: at most ${MAX_NOTE_CHARS} characters` }).refine((t) => !hasControlChars(t), { error: 'note: contains control characters' }).optional(),
          },
          { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; known: chunkId, start, end, note` : 'must be an object {chunkId, start?, end?, note?}') },
        ),
        { error: 'items: must be an array' },
      )
      .min(1, { error: 'items: the basket is empty' })
      .max(MAX_EXPORT_ITEMS, { error: `items: at most ${MAX_EXPORT_ITEMS} per export` }),
  },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `body: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; known: title, format, items` : 'body: must be a JSON object') },
);

export type ExportRequest = z.infer<typeof exportSchema>;

/** Validates an export body; errors name the item and field (items[2].start: ...). */
export function parseExportBody(body: unknown): ExportRequest {
  const parsed = exportSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('');
  const last = issue.path.at(-1);
  const bare = typeof last === 'string' && issue.message.startsWith(`${last}: `) ? issue.message.slice(last.length + 2) : issue.message;
  const named = where ? `${where}: ${bare}` : issue.message;
  throw new AppError('E_BAD_REQUEST', named, { status: 400 });
}

/** A file name for Content-Disposition: ASCII fallback plus the UTF-8 title (RFC 6266). */
function disposition(title: string, ext: string): string {
  const safe = stripControlChars(title, { lineBreaks: false }).replace(/[\\/:*?"<>|]/g, '').trim() || 'draft';
  return `attachment; filename="draft.${ext}"; filename*=UTF-8''${encodeURIComponent(`${safe}.${ext}`)}`;
}

function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const type = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') next();
  else next(new AppError('E_BAD_REQUEST', `body: Content-Type must be application/json${type ? `, got ${type.slice(0, 60)}` : ''}`, { status: 415 }));
}

const require = createRequire(import.meta.url);
/** chart.js's UMD build (its package exports do not list dist/ files, so found beside its main file). */
const CHART_UMD = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');

export function createDraftingRoutes(options: DraftingRoutesOptions): Router {
  const { requireService } = options;
  const parsers = createRequestParsers({ maxQuestionChars: options.maxQuestionChars });
  const root = path.resolve(options.webDir ?? DEFAULT_WEB_DIR);
  const router = Router();

  router.get('/api/search', async (req, res, next) => {
    const query = req.query as Record<string, unknown>;
    if (!DRAFT_SEARCH_PARAMS.some((p) => query[p] !== undefined)) {
      next();
      return;
    }
    const service = requireService();
    const request = parseDraftSearchQuery(query, parsers);
    if (request.filters.town !== undefined && !service.towns.includes(request.filters.town)) {
      throw new AppError('E_UNKNOWN_FILTER', `filters.town: unknown town "${request.filters.town}"; known: ${service.towns.join(', ')}`, { status: 400 });
    }
    res.json(await draftSearch(service, request));
  });

  router.route('/api/similar').get(async (req, res) => {
    const service = requireService();
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).filter((k) => !['chunkId', 'start', 'end', 'k'].includes(k));
    if (unknown.length > 0) throw new AppError('E_BAD_REQUEST', `similar: unknown parameter ${unknown.map((k) => `"${k.slice(0, 30)}"`).join(', ')}; use chunkId, start, end, k`, { status: 400 });
    const chunkId = chunkIdParam(single(query, 'chunkId', 'similar'), 'chunkId', 'similar');
    const start = integer(single(query, 'start', 'similar'), 'start', 0, 1e9, 'similar');
    const end = integer(single(query, 'end', 'similar'), 'end', 1, 1e9, 'similar');
    const k = integer(single(query, 'k', 'similar'), 'k', 1, SIMILAR_K_MAX, 'similar') ?? SIMILAR_K_DEFAULT;
    const started = performance.now();
    const result = await findSimilarSentences(service.index, { chunkId, k, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) });
    res.json({ ...result, tookMs: Math.round(performance.now() - started) });
  }).all(methodNotAllowed('GET, HEAD'));

  router.route('/api/drafts/export').post(requireJson, json({ limit: EXPORT_BODY_LIMIT, strict: true, type: 'application/json' }), async (req, res) => {
    const service = requireService();
    const request = parseExportBody(req.body);
    const items = await resolveDraftItems(service.index, request.items);
    const title = request.title?.trim() || '草稿摘录';
    res.setHeader('Cache-Control', 'no-store');
    if (request.format === 'md') {
      res.setHeader('Content-Disposition', disposition(title, 'md'));
      res.type('text/markdown; charset=utf-8').send(exportMarkdown(title, items));
      return;
    }
    const buffer = await exportDocx(title, items);
    res.setHeader('Content-Disposition', disposition(title, 'docx'));
    res.type('application/vnd.openxmlformats-officedocument.wordprocessingml.document').send(buffer);
  }).all(methodNotAllowed('POST'));

  // The basket shows what the server will export: the text and source of each item, from the index.
  router.route('/api/drafts/resolve').post(requireJson, json({ limit: EXPORT_BODY_LIMIT, strict: true, type: 'application/json' }), async (req, res) => {
    const service = requireService();
    const request = parseExportBody({ format: 'md', ...(typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) ? req.body : { items: req.body }) });
    res.json({ items: await resolveDraftItems(service.index, request.items) });
  }).all(methodNotAllowed('POST'));

  // A selection in the document view, as the passage that holds its start (clipped to that passage).
  router.route('/api/drafts/locate').get(async (req, res) => {
    const service = requireService();
    const query = req.query as Record<string, unknown>;
    const docId = single(query, 'docId', 'locate');
    if (docId === undefined || !/^[\w\u4e00-\u9fff-]{1,200}$/.test(docId)) throw new AppError('E_BAD_REQUEST', 'locate: docId is required', { status: 400 });
    const start = integer(single(query, 'start', 'locate'), 'start', 0, 1e9, 'locate');
    const end = integer(single(query, 'end', 'locate'), 'end', 1, 1e9, 'locate');
    if (start === undefined || end === undefined || start >= end) throw new AppError('E_BAD_REQUEST', 'locate: start and end are required, start < end', { status: 400 });
    const chunk = (await service.index.chunkSpansOf(docId)).find((c) => c.start <= start && start < c.end);
    if (!chunk) throw new AppError('E_NOT_FOUND', `locate: no passage of "${docId}" holds offset ${start}`, { status: 404 });
    res.json({ chunkId: chunk.id, docId, start, end: Math.min(end, chunk.end), clipped: end > chunk.end });
  }).all(methodNotAllowed('GET, HEAD'));

  router.route('/api/indicators').get(async (req, res) => {
    const service = requireService();
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).filter((k) => !['town', 'indicator', 'year', 'format'].includes(k));
    if (unknown.length > 0) throw new AppError('E_UNKNOWN_FILTER', `indicators: unknown parameter ${unknown.map((k) => `"${k.slice(0, 30)}"`).join(', ')}; use town, indicator, year, format`, { status: 400 });
    // Extracted at ingest and stored by town: a request reads the towns it lists and filters them.
    const { indicators, years } = await service.index.indicatorSummary();
    const filter: IndicatorFilter = {};
    const town = single(query, 'town', 'indicators');
    if (town !== undefined) {
      if (!service.towns.includes(town)) throw new AppError('E_UNKNOWN_FILTER', `indicators: unknown town "${town.slice(0, 50)}"; known: ${service.towns.join(', ')}`, { status: 400 });
      filter.town = town;
    }
    const indicator = single(query, 'indicator', 'indicators');
    if (indicator !== undefined) {
      if (!indicators.includes(indicator)) throw new AppError('E_UNKNOWN_FILTER', `indicators: unknown indicator "${indicator.slice(0, 50)}"; known: ${indicators.join(', ')}`, { status: 400 });
      filter.indicator = indicator;
    }
    const year = integer(single(query, 'year', 'indicators'), 'year', 1949, 2100, 'indicators');
    if (year !== undefined) filter.year = year;
    const format = single(query, 'format', 'indicators') ?? 'json';
    if (!['json', 'csv', 'xlsx'].includes(format)) throw new AppError('E_BAD_REQUEST', 'indicators: format must be json, csv or xlsx', { status: 400 });
    // A few towns at a time (town-batches.ts), keeping only the figures asked for: an indicator or a
    // year over 5,000 towns is a small list, their whole table is not.
    const towns = filter.town ? [filter.town] : service.towns;
    const figures: IndicatorFigure[] = [];
    for (const part of townBatches(towns)) figures.push(...filterIndicators(await service.index.indicators(part), filter));
    if (format === 'json') {
      res.json({ figures, total: figures.length, indicators, towns: service.towns, years });
      return;
    }
    if (format === 'csv') {
      res.setHeader('Content-Disposition', `attachment; filename="indicators.csv"; filename*=UTF-8''${encodeURIComponent('指标对照.csv')}`);
      res.type('text/csv; charset=utf-8').send(indicatorsToCsv(figures));
      return;
    }
    if (format === 'xlsx') {
      const header = indicatorColumns().map((value) => ({ value, fontWeight: 'bold' as const }));
      const rows = indicatorRows(figures).map((row) => row.map((value) => ({ value })));
      // Loaded on the first spreadsheet, not with the server.
      const { default: writeExcelFile } = await import('write-excel-file/node');
      const buffer = await writeExcelFile([header, ...rows], { sheet: '指标对照', stickyRowsCount: 1 }).toBuffer();
      res.setHeader('Content-Disposition', `attachment; filename="indicators.xlsx"; filename*=UTF-8''${encodeURIComponent('指标对照.xlsx')}`);
      res.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet').send(buffer);
    }
  }).all(methodNotAllowed('GET, HEAD'));

  for (const [route, file] of Object.entries(PAGES)) {
    router
      .route(route)
      .get((_req, res, next) => {
        res.sendFile(file, { root, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, lastModified: true, etag: true }, (err) => {
          if (err && !res.headersSent) next(err);
        });
      })
      .all(methodNotAllowed('GET, HEAD'));
  }

  // The chart library of /indicators, served from its package (no CDN, under the CSP's script-src 'self').
  router.get('/assets/vendor/chart.umd.min.js', (_req, res, next) => {
    res.sendFile(CHART_UMD, { headers: { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=86400' } }, (err) => {
      if (err && !res.headersSent) next(err);
    });
  });

  return router;
}
