/**
 * The commitments over HTTP: GET /api/commitments (filters, CSV), GET /api/commitments/:id, the
 * staff view at /commitments, and list/outcome questions through POST /api/ask. A real server on
 * 127.0.0.1 with the real service (real model, real index of the shipped corpus).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../src/domain/commitment.js';
import express, { type Express } from 'express';
import { createApp } from '../../src/server/app.js';
import { createCommitmentRoutes } from '../../src/server/commitments-routes.js';
import { openTestService } from '../services.js';

let server: Server;
let base = '';
/** A second server on the same service whose listings read two towns at a time; the towns of each read. */
let stepped: Server;
let steppedBase = '';
const reads: Array<readonly string[] | undefined> = [];

const listen = async (app: Express): Promise<{ server: Server; base: string }> => {
  const listening = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    listening.once('listening', resolve);
    listening.once('error', reject);
  });
  return { server: listening, base: `http://127.0.0.1:${(listening.address() as AddressInfo).port}` };
};

beforeAll(async () => {
  const { service, config } = await openTestService();
  // Read before the first request (ingest computed it), so that request timings below do not include it.
  await service.commitments();
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK })));
  const recording = { ...service, commitments: (towns?: readonly string[]) => (reads.push(towns), service.commitments(towns)) };
  // The routes alone, on a bare app: the same code as the server's, with a smaller step.
  ({ server: stepped, base: steppedBase } = await listen(express().use(createCommitmentRoutes({ requireService: () => recording, townsPerRead: 2 }))));
});

afterAll(async () => {
  for (const s of [server, stepped]) {
    s?.closeAllConnections();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }
});

const get = async (path: string, at = base) => {
  const res = await fetch(at + path);
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
};
const getJson = async (path: string, at = base) => {
  const r = await get(path, at);
  return { ...r, body: JSON.parse(new TextDecoder().decode(r.bytes)) };
};
const ask = async (question: string) => {
  const res = await fetch(`${base}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
  return { status: res.status, body: await res.json() };
};
const q = (params: Record<string, string>) => `/api/commitments?${new URLSearchParams(params)}`;

describe('GET /api/commitments', () => {
  it('lists the commitments of a town with targets, deadline, status and citation', async () => {
    const { status, body } = await getJson(q({ town: '牛塘镇' }));
    expect(status).toBe(200);
    expect(body.total).toBe(body.commitments.length);
    expect(body.total).toBeGreaterThan(50);
    for (const c of body.commitments) {
      expect(c.town).toBe('牛塘镇');
      expect(TOPICS).toContain(c.topic);
      expect(['deliverable', 'effort']).toContain(c.firmness);
      expect(c.status).toBe('no-later-report');
      expect(c.citation).toMatchObject({ docId: 'niutang-2022-midyear-report', role: 'plan' });
      expect(c.citation.quote.start).toBeGreaterThanOrEqual(c.citation.start);
      expect(c.citation.quote.end).toBeLessThanOrEqual(c.citation.end);
    }
    const housing = body.commitments.find((c: { clause: string }) => c.clause.includes('1364套'));
    expect(housing).toMatchObject({ action: '完成', firmness: 'deliverable', deadline: '年内', year: 2022, topic: '城乡建设' });
    expect(housing.targets).toEqual([expect.objectContaining({ value: 1364, unit: '套', what: '安置房', text: '1364套' })]);
  });

  it('cites a sentence that the document endpoint shows at those offsets', async () => {
    const { body } = await getJson(q({ town: '临湖镇', q: '14.3亿元' }));
    expect(body.total).toBe(1);
    const c = body.commitments[0];
    expect(c.targets.map((t: { value: number; unit: string }) => `${t.value}${t.unit}`)).toEqual(['12个', '14.3亿元']);
    const doc = (await getJson(`/api/documents/${c.citation.docId}`)).body;
    expect(doc.text.slice(c.citation.start, c.citation.end)).toBe(c.citation.text);
    expect(doc.text.slice(c.citation.quote.start, c.citation.quote.end)).toBe(c.clause);
  });

  it('filters by year, topic, status and words', async () => {
    const byYear = (await getJson(q({ year: '2020' }))).body;
    expect(byYear.total).toBeGreaterThan(0);
    expect(new Set(byYear.commitments.map((c: { town: string }) => c.town))).toEqual(new Set(['淀山湖镇']));
    const byTopic = (await getJson(q({ town: '临湖镇', topic: '交通' }))).body;
    expect(byTopic.total).toBeGreaterThan(0);
    expect(byTopic.commitments.every((c: { topic: string }) => c.topic === '交通')).toBe(true);
    expect((await getJson(q({ status: 'met' }))).body.total).toBe(0);
    const words = (await getJson(q({ q: '安置房 登记' }))).body;
    expect(words.commitments.every((c: { clause: string; citation: { text: string } }) => `${c.clause}${c.citation.text}`.includes('安置房'))).toBe(true);
  });

  it('exports CSV with a UTF-8 byte order mark for Excel', async () => {
    const { status, headers, bytes } = await get(q({ town: '梅李镇', format: 'csv' }));
    expect(status).toBe(200);
    expect(headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(headers.get('content-disposition')).toMatch(/^attachment; filename="commitments.csv"; filename\*=UTF-8''/);
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const lines = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,镇,年份,主题,动作,力度,承诺,目标,时限,状态,说明,报告,日期,章节,原句,起,止');
    const json = (await getJson(q({ town: '梅李镇' }))).body;
    expect(lines.length - 1).toBe(json.total);
    expect(lines[1]).toContain('梅李镇');
  });

  it('pages the JSON list (limit, offset): the pages put together are the whole list, the counts are of the whole list', async () => {
    const whole = (await getJson('/api/commitments')).body;
    expect(whole).toMatchObject({ offset: 0, limit: 1000, hasMore: false });
    expect(whole.commitments).toHaveLength(whole.total);
    expect(whole.total).toBeGreaterThan(400);
    const pages = [];
    for (let offset = 0; ; offset += 150) {
      const page = (await getJson(q({ limit: '150', offset: String(offset) }))).body;
      expect(page).toMatchObject({ total: whole.total, byStatus: whole.byStatus, byTopic: whole.byTopic, offset, limit: 150 });
      pages.push(...page.commitments);
      expect(page.hasMore).toBe(offset + 150 < whole.total);
      if (!page.hasMore) break;
    }
    expect(pages).toEqual(whole.commitments);
    const beyond = (await getJson(q({ offset: String(whole.total + 10) }))).body;
    expect(beyond).toMatchObject({ commitments: [], total: whole.total, hasMore: false });
  });

  it('reads a listing over all towns a few towns at a time, with the same rows and CSV as one read', async () => {
    reads.length = 0;
    const one = (await getJson('/api/commitments')).body;
    const stepwise = (await getJson('/api/commitments', steppedBase)).body;
    expect({ ...stepwise, tookMs: 0 }).toEqual({ ...one, tookMs: 0 });
    // Five towns, two at a time: three reads, none of the whole book.
    expect(reads.map((towns) => towns?.length)).toEqual([2, 2, 1]);
    expect(new Set(reads.flat())).toEqual(new Set(one.commitments.map((c: { town: string }) => c.town)));
    reads.length = 0;
    const csv = new TextDecoder().decode((await get('/api/commitments?format=csv')).bytes);
    expect(new TextDecoder().decode((await get('/api/commitments?format=csv', steppedBase)).bytes)).toBe(csv);
    expect(csv.trimEnd().split('\r\n')).toHaveLength(one.total + 1);
    expect(reads).toHaveLength(3);
    // A town named: that town alone.
    reads.length = 0;
    await getJson(q({ town: '梅李镇' }), steppedBase);
    expect(reads).toEqual([['梅李镇']]);
  });

  it('refuses unknown parameters and values with 400 and names the choices', async () => {
    for (const [params, code] of [
      [{ town: '火星镇' }, 'E_UNKNOWN_FILTER'],
      [{ topic: '外交' }, 'E_UNKNOWN_FILTER'],
      [{ status: 'done' }, 'E_UNKNOWN_FILTER'],
      [{ year: '二〇二三' }, 'E_BAD_REQUEST'],
      [{ format: 'xlsx' }, 'E_BAD_REQUEST'],
      [{ sort: 'year' }, 'E_UNKNOWN_FILTER'],
      [{ limit: '0' }, 'E_BAD_REQUEST'],
      [{ limit: '1001' }, 'E_BAD_REQUEST'],
      [{ limit: '10.5' }, 'E_BAD_REQUEST'],
      [{ offset: '-1' }, 'E_BAD_REQUEST'],
      [{ format: 'csv', limit: '10' }, 'E_BAD_REQUEST'],
    ] as const) {
      const { status, body } = await getJson(q(params));
      expect(status, JSON.stringify(params)).toBe(400);
      expect(body.error.code).toBe(code);
    }
    const twice = await getJson('/api/commitments?town=%E6%A2%85%E6%9D%8E%E9%95%87&town=%E7%89%9B%E5%A1%98%E9%95%87');
    expect(twice.status).toBe(400);
  });
});

describe('GET /api/commitments/:id', () => {
  it('returns the commitment with its follow-up', async () => {
    const list = (await getJson(q({ town: '淀山湖镇', q: '地区生产总值' }))).body;
    const id = list.commitments[0].id;
    const { status, body } = await getJson(`/api/commitments/${encodeURIComponent(id)}`);
    expect(status).toBe(200);
    expect(body.commitment).toMatchObject({ id, town: '淀山湖镇', action: '目标', year: 2020 });
    expect(body.commitment.targets[0]).toMatchObject({ value: 107, unit: '亿元', what: '地区生产总值' });
    expect(body.followUp).toEqual({ status: 'no-later-report', note: expect.stringContaining('淀山湖镇'), laterDocuments: [], evidence: [] });
  });

  it('answers 404 for an unknown id without echoing a malformed one', async () => {
    const unknown = await getJson('/api/commitments/meili-2023-reform-plan:c1-9');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('E_NOT_FOUND');
    const odd = await getJson(`/api/commitments/${encodeURIComponent('<script>')}`);
    expect(odd.status).toBe(404);
    expect(JSON.stringify(odd.body)).not.toContain('script');
  });
});

describe('the staff view', () => {
  it('is served at /commitments with its own script and styles, no inline script, under the strict CSP', async () => {
    const page = await get('/commitments');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = new TextDecoder().decode(page.bytes);
    expect(html).toContain('src="/commitments/commitments.js"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const script = await get('/commitments/commitments.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    const js = new TextDecoder().decode(script.bytes);
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    expect((await get('/commitments/commitments.css')).status).toBe(200);
  });
});

describe('questions about commitments through POST /api/ask', () => {
  it('lists promises with a citation each (梅李镇2023年在民生方面有哪些承诺?)', async () => {
    const { status, body } = await ask('梅李镇2023年在民生方面有哪些承诺?');
    expect(status).toBe(200);
    expect(body).toMatchObject({ found: true, mode: 'extractive' });
    const items = body.answer.split('\n').slice(1);
    expect(items.length).toBeGreaterThanOrEqual(5);
    for (const line of items) expect(line).toMatch(/^\d+\. .+\[\d+\]$/);
    expect(body.answer).toContain('完成梅李第二幼儿园建设');
    const cited = new Set<number>(items.map((l: string) => Number(l.match(/\[(\d+)\]$/)![1])));
    expect([...cited].sort((a, b) => a - b)).toEqual(body.citations.map((c: { n: number }) => c.n));
    for (const c of body.citations) expect(c).toMatchObject({ town: '梅李镇', role: 'plan' });
  });

  it('lists a town’s plans for the second half of the year (牛塘镇下半年计划做哪些事?)', async () => {
    const { body } = await ask('牛塘镇下半年计划做哪些事?');
    expect(body.found).toBe(true);
    expect(body.answer).toContain('1364套安置房');
    expect(body.citations.every((c: { section: string }) => c.section.startsWith('2022年下半年主要工作任务'))).toBe(true);
  });

  it('says what was promised and that no later report exists (淀山湖镇2020年的地区生产总值目标完成了吗?)', async () => {
    const { body } = await ask('淀山湖镇2020年的地区生产总值目标完成了吗?');
    expect(body.found).toBe(true);
    expect(body.answer).toContain('地区生产总值107亿元[1]');
    expect(body.answer).toContain('没有淀山湖镇之后的报告');
    expect(body.citations).toHaveLength(1);
    expect(body.citations[0]).toMatchObject({ town: '淀山湖镇', role: 'plan' });
  });

  it('streams the same list through POST /api/ask/stream', async () => {
    const res = await fetch(`${base}/api/ask/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: '临湖镇2023年在交通方面有什么计划?' }) });
    const text = await res.text();
    const done = text.split('\n\n').find((block) => block.startsWith('event: done'));
    expect(done).toBeDefined();
    const response = JSON.parse(done!.split('\ndata: ')[1]!);
    expect(response.found).toBe(true);
    expect(response.answer).toContain('完成菱湖渚路桥梁大修');
    expect(response.answer).toMatch(/^1\. .+\[1\]$/m);
  });

  it('leaves other questions to retrieval', async () => {
    const { body } = await ask('牛塘镇2022年上半年申报了多少家国家高新技术企业?');
    expect(body.answer).toContain('35家');
    expect(body.answer).not.toMatch(/^\d+\. /m);
  });
});
