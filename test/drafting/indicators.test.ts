/**
 * The indicator table on the shipped corpus: enough figures, each standing verbatim in its
 * cited sentence, and target / estimate / outcome right on a labelled fixture written from the
 * reports; then GET /api/indicators in JSON, CSV and xlsx.
 */
import fs from 'node:fs';
import path from 'node:path';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQaService, type QaService } from '../../src/qa/service.js';
import type { Embedder } from '../../src/embed/embedder.js';
import type { IndexSnapshot } from '../../src/store/index-store.js';
import { buildIndicatorTable, indicatorNames, type IndicatorFigure } from '../../src/drafting/indicators.js';
import { annotateSentences } from '../../src/annotate/sentence.js';
import { currentGeneration } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { call, close, expectError, listen } from '../http.js';
import { allChunks, allReports, openTestService, testIndexDir } from '../services.js';
import { INDICATORS } from '../../src/retrieve/derive.js';

let service: QaService;
let embedder: Embedder;
let table: IndicatorFigure[];
let base: string;
let server: import('node:http').Server;

beforeAll(async () => {
  let config;
  ({ service, config, embedder } = await openTestService());
  table = await service.index.indicators(service.towns);
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK })));
});

afterAll(() => close(server));

/** Read from the reports by hand: town, indicator, period, kind, the figure as written. */
const LABELLED: Array<[string, string, string, IndicatorFigure['kind'], string]> = [
  ['淀山湖镇', '地区生产总值', '2019', 'estimate', '105亿元'],
  ['淀山湖镇', '地区生产总值', '2020', 'target', '107亿元'],
  ['淀山湖镇', '地区生产总值增速', '2019', 'estimate', '4.37%'],
  ['淀山湖镇', '一般公共预算收入', '2019', 'outcome', '11.68亿元'],
  ['淀山湖镇', '一般公共预算收入', '2020', 'target', '12.1亿元'],
  ['淀山湖镇', '工业总产值', '2019', 'estimate', '240亿元'],
  ['淀山湖镇', '工业总产值', '2020', 'target', '242亿元'],
  ['淀山湖镇', '全社会固定资产投资', '2019', 'outcome', '19.5亿元'],
  ['淀山湖镇', '全社会固定资产投资', '2020', 'target', '18亿元'],
  ['淀山湖镇', '进出口总额', '2020', 'target', '9亿美元'],
  ['淀山湖镇', '实际使用外资', '2019', 'outcome', '2210万美元'],
  ['淀山湖镇', '城乡居民人均可支配收入', '2019', 'outcome', '59650元'],
  ['临湖镇', '规上工业总产值', '2022', 'outcome', '122.3亿元'],
  ['临湖镇', '高新技术企业数', '2022', 'outcome', '58家'],
  ['临湖镇', '高新技术企业数', '2023', 'target', '180家'],
  ['临湖镇', '高校毕业生就业率', '2023', 'target', '95%'],
  ['牛塘镇', '地区生产总值', '2022上半年', 'estimate', '45.2亿元'],
  ['牛塘镇', '地区生产总值增速', '2022上半年', 'estimate', '12.43%'],
  ['淀山湖镇', '一般公共预算收入增速', '2019', 'outcome', '5.04%'],
  ['牛塘镇', '一般公共预算收入', '2022上半年', 'outcome', '1.46亿元'],
  ['牛塘镇', '安全生产检查', '2022上半年', 'outcome', '6019家次'],
  ['牛塘镇', '安全隐患排查整改', '2022上半年', 'outcome', '7763条'],
];

describe('the indicator table', () => {
  it('holds at least 25 figures across the reports, each verbatim in its cited sentence at its offsets', async () => {
    const reports = await allReports(service.index);
    expect(table.length).toBeGreaterThanOrEqual(25);
    expect(new Set(table.map((f) => f.town)).size).toBeGreaterThanOrEqual(3);
    for (const f of table) {
      const doc = reports.get(f.citation.docId)!;
      expect(doc.text.slice(f.citation.start, f.citation.end)).toBe(f.citation.text);
      expect(f.citation.text).toContain(f.text);
      expect(f.text).toContain(String(Math.abs(f.value)));
      expect(f.citation.start).toBeGreaterThanOrEqual(f.citation.passage.start);
      expect(f.citation.end).toBeLessThanOrEqual(f.citation.passage.end);
      expect(['target', 'estimate', 'outcome']).toContain(f.kind);
    }
  });

  it('signs a decline: 牛塘镇 地区生产总值 同比下降12.43%', () => {
    expect(table.find((f) => f.town === '牛塘镇' && f.indicator === '地区生产总值增速')?.value).toBe(-12.43);
  });

  it.each(LABELLED)('labels %s %s %s as %s (%s)', (town, indicator, period, kind, text) => {
    const found = table.filter((f) => f.town === town && f.indicator === indicator && f.text === text);
    expect(found.map((f) => ({ period: f.period, kind: f.kind }))).toContainEqual({ period, kind });
  });

  it('is built at ingest: the generation holds it a town a record (derived.jsonl, checksummed), with a summary, equal to extracting afresh', async () => {
    const dir = path.join(testIndexDir(), currentGeneration(testIndexDir())!);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { checksums: Record<string, string> };
    expect(manifest.checksums['derived.jsonl']).toMatch(/^[0-9a-f]{64}$/);
    const documents = [...(await allReports(service.index)).values()];
    const chunks = await allChunks(service.index);
    const fresh = buildIndicatorTable(documents, chunks, annotateSentences(documents, chunks));
    expect(fresh.length).toBeGreaterThanOrEqual(25);
    const records = await service.index.snapshot.getDerived<IndicatorFigure[]>(INDICATORS);
    expect(records.map((r) => r.key).sort()).toEqual([...new Set(fresh.map((f) => f.town))].sort());
    for (const r of records) expect(r.value).toEqual(fresh.filter((f) => f.town === r.key));
    // Read by towns, in the towns' order.
    expect(table).toEqual(service.towns.flatMap((town) => fresh.filter((f) => f.town === town)));
    expect(await service.index.indicators(['梅李镇', '不存在镇'])).toEqual(fresh.filter((f) => f.town === '梅李镇'));
    expect(await service.index.indicatorSummary()).toEqual({ indicators: indicatorNames(fresh), years: [...new Set(fresh.map((f) => f.year))].sort((a, b) => a - b) });
  });
});

describe('GET /api/indicators', () => {
  it('serves the table the loaded index holds, computing nothing on request', async () => {
    // A table the rules could never produce from these reports (one figure, its value changed):
    // a route that extracted on request would answer with the real table instead.
    // The store's answer for the 'indicators' record is replaced; everything else is the real store's.
    const real = service.index.snapshot;
    const planted = { ...table[0]!, value: 123456.789 };
    const snapshot: IndexSnapshot = Object.assign(Object.create(real) as IndexSnapshot, {
      getDerived: async (kind: string, keys?: readonly string[]) => (kind === 'indicators' ? [{ kind, key: 'all', value: [planted] }] : real.getDerived(kind, keys)),
    });
    const other = await listen(createApp({ service: await createQaService(snapshot, embedder, { defaultTopK: 5 }), maxQuestionChars: 500, defaultTopK: 5 }));
    try {
      const reply = await call(other.base, '/api/indicators');
      expect(reply.status).toBe(200);
      expect(reply.body.total).toBe(1);
      expect(reply.body.figures).toEqual([planted]);
    } finally {
      await close(other.server);
    }
  });

  it('filters by town, indicator and year', async () => {
    const reply = await call(base, `/api/indicators?town=${encodeURIComponent('淀山湖镇')}&indicator=${encodeURIComponent('地区生产总值')}`);
    expect(reply.status).toBe(200);
    const pairs = reply.body.figures.map((f: any) => [f.period, f.kind, f.text]);
    expect(pairs).toEqual(expect.arrayContaining([['2019', 'estimate', '105亿元'], ['2020', 'target', '107亿元']]));
    for (const f of reply.body.figures) expect([f.town, f.indicator]).toEqual(['淀山湖镇', '地区生产总值']);
    const year = await call(base, '/api/indicators?year=2023');
    expect(year.body.figures.length).toBeGreaterThan(0);
    for (const f of year.body.figures) expect(f.year).toBe(2023);
    expect(reply.body.indicators.slice(0, 2)).toEqual(['地区生产总值', '地区生产总值增速']);
  });

  it('exports CSV with a BOM and xlsx that holds the figures', async () => {
    const csv = await call(base, `/api/indicators?format=csv&town=${encodeURIComponent('淀山湖镇')}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    // fetch's text() drops a BOM: read the bytes.
    const bytes = new Uint8Array(await (await fetch(`${base}/api/indicators?format=csv`)).arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.raw.startsWith('镇（街道）,指标')).toBe(true);
    expect(csv.raw).toContain('淀山湖镇,地区生产总值,地区生产总值,2020,目标,107,亿元,107亿元');
    const res = await fetch(`${base}/api/indicators?format=xlsx`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('spreadsheetml.sheet');
    const zip = await JSZip.loadAsync(await res.arrayBuffer());
    const names = Object.keys(zip.files);
    const sheet = await zip.file(names.find((n) => /^xl\/worksheets\/sheet1\.xml$/.test(n))!)!.async('string');
    const strings = names.includes('xl/sharedStrings.xml') ? await zip.file('xl/sharedStrings.xml')!.async('string') : '';
    expect(`${sheet}${strings}`).toContain('地区生产总值');
    expect(`${sheet}${strings}`).toContain('107亿元');
  });

  it('refuses unknown filters and formats', async () => {
    expectError(await call(base, `/api/indicators?town=${encodeURIComponent('火星镇')}`), 400, 'E_UNKNOWN_FILTER');
    expectError(await call(base, `/api/indicators?indicator=${encodeURIComponent('幸福指数')}`), 400, 'E_UNKNOWN_FILTER');
    expectError(await call(base, '/api/indicators?format=pdf'), 400, 'E_BAD_REQUEST');
    expectError(await call(base, '/api/indicators?colour=red'), 400, 'E_UNKNOWN_FILTER');
  });
});
