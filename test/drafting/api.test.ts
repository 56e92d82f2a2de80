/**
 * The drafting workspace's HTTP API over the real index and model: grouped, paged, exact-phrase
 * and "more like this" search, "how others put it", and the cited export (docx parsed back).
 */
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/service.js';
import { createApp } from '../../src/server/app.js';
import { call, close, expectError, listen, postJson } from '../http.js';
import type { Chunk } from '../../src/domain/types.js';
import { allChunks, allReports, openTestService } from '../services.js';

let base: string;
let server: import('node:http').Server;
let service: QaService;
/** Every report with its text (the service holds none). */
let reports: Map<string, import('../../src/domain/types.js').ParsedDocument>;

beforeAll(async () => {
  let config;
  ({ service, config } = await openTestService());
  ({ server, base } = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK })));
  chunks = await allChunks(service.index);
  reports = await allReports(service.index);
});

afterAll(() => close(server));

const docText = (docId: string): string => reports.get(docId)!.text;
/** Every chunk of the index, read through the store once. */
let chunks: Chunk[];

/** A chunk holding a phrase, and the phrase's document offsets. */
function chunkWith(phrase: string, town?: string) {
  const chunk = chunks.find((c) => c.text.includes(phrase) && (!town || c.town === town))!;
  const at = docText(chunk.docId).indexOf(phrase, chunk.start);
  return { chunk, start: at, end: at + phrase.length };
}

describe('GET /api/search for drafting', () => {
  it('keeps the plain contract when no drafting parameter is given', async () => {
    const reply = await call(base, `/api/search?q=${encodeURIComponent('营商环境')}&k=6`);
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body).sort()).toEqual(['results', 'tookMs']);
    expect(reply.body.results).toHaveLength(6);
    expect(Object.keys(reply.body.results[0]).sort()).toEqual(['chunkId', 'date', 'docId', 'end', 'role', 'score', 'section', 'start', 'text', 'title', 'town'].sort());
  });

  it('groups 乡村振兴 results by town and report, with counts over all candidates and highlighted words', async () => {
    const reply = await call(base, `/api/search?q=${encodeURIComponent('乡村振兴')}&group=town&k=20`);
    expect(reply.status).toBe(200);
    const { groups, results, total, mode } = reply.body;
    expect(mode).toBe('semantic');
    expect(groups.length).toBeGreaterThanOrEqual(3);
    const towns = groups.map((g: any) => g.town);
    expect(new Set(towns).size).toBe(towns.length);
    let shown = 0;
    for (const g of groups) {
      const inGroup = g.reports.flatMap((r: any) => r.results);
      shown += inGroup.length;
      expect(g.count).toBeGreaterThanOrEqual(inGroup.length);
      for (const p of inGroup) expect(p.town).toBe(g.town);
    }
    expect(shown).toBe(results.length);
    // Counts are over every candidate, not just this page: read every page and count per town.
    // (A town whose passages all rank past this page has no group here, so the counts need not add up to total.)
    const everyPassage = [...results];
    for (let page = 2; everyPassage.length < total; page += 1) {
      const more = await call(base, `/api/search?q=${encodeURIComponent('乡村振兴')}&group=town&k=20&page=${page}`);
      expect(more.body.results.length).toBeGreaterThan(0);
      everyPassage.push(...more.body.results);
    }
    expect(everyPassage.length).toBe(total);
    for (const g of groups) expect(g.count).toBe(everyPassage.filter((p: any) => p.town === g.town).length);
    for (const r of groups.flatMap((g: any) => g.reports)) expect(r.count).toBe(everyPassage.filter((p: any) => p.docId === r.docId).length);
    const highlighted = results.flatMap((p: any) => p.matches.map(([s, e]: [number, number]) => p.text.slice(s, e)));
    expect(highlighted).toContain('乡村振兴');
    for (const p of results) {
      expect(['review', 'plan', 'other']).toContain(p.role);
      expect(Array.isArray(p.years)).toBe(true);
      // Passage text is the report's own text at its offsets.
      expect(docText(p.docId).slice(p.start, p.end)).toBe(p.text);
    }
  });

  it('pages through the same ranking', async () => {
    const q = encodeURIComponent('营商环境');
    const one = await call(base, `/api/search?q=${q}&k=5&page=1`);
    const two = await call(base, `/api/search?q=${q}&k=5&page=2`);
    expect(one.body.hasMore).toBe(true);
    expect(two.body.page).toBe(2);
    const ids = [...one.body.results, ...two.body.results].map((p: any) => p.chunkId);
    expect(new Set(ids).size).toBe(10);
    const all = await call(base, `/api/search?q=${q}&k=10&page=1`);
    expect(all.body.results.map((p: any) => p.chunkId)).toEqual(ids);
  });

  it('finds a quoted phrase verbatim and only where it stands', async () => {
    const phrase = '优化营商环境';
    const reply = await call(base, `/api/search?q=${encodeURIComponent(`"${phrase}"`)}&group=town&k=50`);
    expect(reply.status).toBe(200);
    expect(reply.body.mode).toBe('exact');
    const expected = chunks.filter((c) => c.text.includes(phrase)).length;
    expect(expected).toBeGreaterThan(0);
    expect(reply.body.total).toBe(expected);
    for (const p of reply.body.results) {
      expect(p.text).toContain(phrase);
      expect(p.matches.length).toBeGreaterThan(0);
      for (const [s, e] of p.matches) expect(p.text.slice(s, e)).toBe(phrase);
    }
    // Full-width letters and digits are matched as the cleaned reports write them.
    const wide = chunks.find((c) => /[A-Za-z0-9]{2}/.test(c.text))!;
    const ascii = /[\u4e00-\u9fff][A-Za-z0-9]+/.exec(wide.text)![0];
    const fullWidth = [...ascii].map((ch) => (/[A-Za-z0-9]/.test(ch) ? String.fromCharCode(ch.charCodeAt(0) + 0xfee0) : ch)).join('');
    const widened = await call(base, `/api/search?q=${encodeURIComponent(`"${fullWidth}"`)}&group=town`);
    expect(widened.body.phrase).toBe(ascii);
    expect(widened.body.total).toBeGreaterThan(0);
    const none = await call(base, `/api/search?q=${encodeURIComponent('“月球基地建设规划”')}&group=town`);
    expect(none.body.total).toBe(0);
  });

  it('finds more like one passage, never the passage itself, under the filters', async () => {
    const { chunk } = chunkWith('乡村振兴');
    const reply = await call(base, `/api/search?like=${encodeURIComponent(chunk.id)}&group=town&k=8`);
    expect(reply.status).toBe(200);
    expect(reply.body.mode).toBe('like');
    expect(reply.body.results.length).toBe(8);
    expect(reply.body.results.map((p: any) => p.chunkId)).not.toContain(chunk.id);
    // Highlighted: a dozen of the source's distinctive words at most, each found in the source.
    const words = new Set(reply.body.results.flatMap((p: any) => p.matches.map(([s, e]: [number, number]) => p.text.slice(s, e))));
    expect(words.size).toBeGreaterThan(0);
    expect(words.size).toBeLessThanOrEqual(12 * 2);
    for (const w of words) expect(chunk.text).toContain(w);
    const other = service.towns.find((t) => t !== chunk.town)!;
    const filtered = await call(base, `/api/search?like=${encodeURIComponent(chunk.id)}&town=${encodeURIComponent(other)}&group=town`);
    expect(filtered.body.results.length).toBeGreaterThan(0);
    for (const p of filtered.body.results) expect(p.town).toBe(other);
  });

  it('answers bad drafting parameters with a 400 naming them', async () => {
    expectError(await call(base, '/api/search?q=x&group=year'), 400, 'E_BAD_REQUEST');
    expectError(await call(base, '/api/search?q=x&page=0'), 400, 'E_BAD_REQUEST');
    expectError(await call(base, '/api/search?like=nope&group=town'), 400, 'E_NOT_FOUND');
    expectError(await call(base, `/api/search?q=x&group=town&town=${encodeURIComponent('火星镇')}`), 400, 'E_UNKNOWN_FILTER');
    expectError(await call(base, '/api/search?group=town'), 400, 'E_QUESTION_MISSING');
  });
});

describe('GET /api/similar', () => {
  it('shows how at least two other towns put a 乡村振兴 sentence, each sentence cited at its offsets', async () => {
    const { chunk } = chunkWith('乡村振兴', '淀山湖镇');
    const [s, e] = chunk.sentences.find(([a, b]) => docText(chunk.docId).slice(a, b).includes('乡村振兴'))!;
    const reply = await call(base, `/api/similar?chunkId=${encodeURIComponent(chunk.id)}&start=${s}&end=${e}&k=8`);
    expect(reply.status).toBe(200);
    const { source, sentences, towns } = reply.body;
    expect(source.text).toBe(docText(chunk.docId).slice(s, e));
    expect(sentences).toHaveLength(8);
    const others = new Set(sentences.map((x: any) => x.town));
    expect(others.has(chunk.town)).toBe(false);
    expect(others.size).toBeGreaterThanOrEqual(2);
    expect(towns.map((t: any) => t.town).sort()).toEqual([...others].sort());
    for (const x of sentences) {
      expect(x.relation).toBe('other-town');
      expect(docText(x.docId).slice(x.start, x.end)).toBe(x.text);
      expect(x.start).toBeGreaterThanOrEqual(x.passage.start);
      expect(x.end).toBeLessThanOrEqual(x.passage.end);
      expect(x.title).toBeTruthy();
      // A sentence of a report's preamble has no section.
      expect(typeof x.section).toBe('string');
    }
    const scores = sentences.map((x: any) => x.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('refuses an unknown passage and a span outside it', async () => {
    const { chunk } = chunkWith('乡村振兴');
    expectError(await call(base, '/api/similar?chunkId=nope'), 400, 'E_NOT_FOUND');
    expectError(await call(base, `/api/similar?chunkId=${encodeURIComponent(chunk.id)}&start=${chunk.start}&end=${chunk.end + 5}`), 400, 'E_BAD_REQUEST');
    expectError(await call(base, `/api/similar?chunkId=${encodeURIComponent(chunk.id)}&k=99`), 400, 'E_BAD_REQUEST');
    expectError(await call(base, `/api/similar?chunkId=${encodeURIComponent(chunk.id)}&x=1`), 400, 'E_BAD_REQUEST');
  });
});

describe('POST /api/drafts/export', () => {
  const items = () => {
    const a = chunkWith('乡村振兴', '淀山湖镇');
    const b = chunkWith('营商环境');
    return [
      { chunkId: a.chunk.id, start: a.start, end: a.chunk.sentences.find(([, e]) => e > a.start)![1], note: '可用于农业农村部分' },
      { chunkId: b.chunk.id },
    ];
  };

  it('writes a docx whose footnotes name town, title and section of every quote', async () => {
    const list = items();
    const res = await fetch(`${base}/api/drafts/export`, postJson({ title: '2024年工作报告素材', format: 'docx', items: list }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('wordprocessingml.document');
    expect(res.headers.get('content-disposition')).toContain(encodeURIComponent('2024年工作报告素材.docx'));
    const zip = await JSZip.loadAsync(await res.arrayBuffer());
    const documentXml = await zip.file('word/document.xml')!.async('string');
    const footnotesXml = await zip.file('word/footnotes.xml')!.async('string');
    const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const plain = (xml: string) => unescape([...xml.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join(''));
    expect(documentXml.match(/<w:footnoteReference /g)).toHaveLength(list.length);
    expect(documentXml).toContain('w:eastAsia="仿宋"');
    for (const item of list) {
      const chunk = chunks.find((c) => c.id === item.chunkId)!;
      const doc = reports.get(chunk.docId)!;
      const quote = doc.text.slice(item.start ?? chunk.start, item.end ?? chunk.end).trim();
      for (const line of quote.split('\n').filter((l) => l.trim())) expect(plain(documentXml)).toContain(line.trim());
      expect(plain(footnotesXml)).toContain(`${chunk.town}《${doc.meta.title}》`);
      expect(plain(footnotesXml)).toContain(chunk.sectionPath.join(' > '));
    }
    expect(plain(documentXml)).toContain('引用来源');
    expect(plain(documentXml)).toContain('备注：可用于农业农村部分');
  });

  it('writes Markdown with one numbered footnote per quote', async () => {
    const list = items();
    const reply = await call(base, '/api/drafts/export', postJson({ format: 'md', items: list }));
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const md = reply.raw;
    for (const [i, item] of list.entries()) {
      const chunk = chunks.find((c) => c.id === item.chunkId)!;
      const doc = reports.get(chunk.docId)!;
      expect(md).toContain(`[^${i + 1}]: ${chunk.town}《${doc.meta.title}》`);
      const quote = doc.text.slice(item.start ?? chunk.start, item.end ?? chunk.end).trim();
      expect(md.replace(/^> /gm, '')).toContain(quote);
    }
    expect(md).toContain('## 引用来源');
  });

  it('answers an unknown passage or out-of-range offsets with a 400 naming the item', async () => {
    const [good] = items();
    const chunk = chunks.find((c) => c.id === good!.chunkId)!;
    const unknown = await call(base, '/api/drafts/export', postJson({ format: 'md', items: [good, { chunkId: 'no-such-passage' }] }));
    expectError(unknown, 400, 'E_NOT_FOUND');
    expect(unknown.body.error.message).toMatch(/^items\[1\]/);
    const range = await call(base, '/api/drafts/export', postJson({ format: 'docx', items: [good, good, { chunkId: chunk.id, start: chunk.start, end: chunk.end + 1 }] }));
    expectError(range, 400, 'E_BAD_REQUEST');
    expect(range.body.error.message).toMatch(/^items\[2\]/);
    const shape = await call(base, '/api/drafts/export', postJson({ format: 'md', items: [{ chunkId: chunk.id, start: 'x' }] }));
    expectError(shape, 400, 'E_BAD_REQUEST');
    expect(shape.body.error.message).toMatch(/^items\[0\]\.start/);
    const text = await call(base, '/api/drafts/export', postJson({ format: 'md', items: [{ chunkId: chunk.id, text: '伪造的原文' }] }));
    expectError(text, 400, 'E_BAD_REQUEST');
    expect(text.body.error.message).toMatch(/^items\[0\]: unknown key "text"/);
    expectError(await call(base, '/api/drafts/export', postJson({ format: 'pdf', items: [good] })), 400, 'E_BAD_REQUEST');
    expectError(await call(base, '/api/drafts/export', postJson('{"format": "md", "items": [')), 400, 'E_BAD_JSON');
    expectError(await call(base, '/api/drafts/export', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' }), 415, 'E_BAD_REQUEST');
    expectError(await call(base, '/api/drafts/export', postJson({ format: 'md', items: [] })), 400, 'E_BAD_REQUEST');
  });
});

describe('the basket helpers', () => {
  it('resolves items to the text and source the export will use', async () => {
    const a = chunkWith('乡村振兴', '淀山湖镇');
    const reply = await call(base, '/api/drafts/resolve', postJson({ items: [{ chunkId: a.chunk.id, start: a.start, end: a.end, note: 'x' }] }));
    expect(reply.status).toBe(200);
    expect(reply.body.items[0]).toMatchObject({ n: 1, text: '乡村振兴', note: 'x', source: { town: '淀山湖镇', chunkId: a.chunk.id, start: a.start, end: a.end } });
    expect(reply.body.items[0].source.paragraph).toBeGreaterThan(1);
    expectError(await call(base, '/api/drafts/resolve', postJson({ items: [{ chunkId: 'nope' }] })), 400, 'E_NOT_FOUND');
  });

  it('locates a document selection in the passage holding its start, clipped to it', async () => {
    const { chunk } = chunkWith('乡村振兴');
    const reply = await call(base, `/api/drafts/locate?docId=${chunk.docId}&start=${chunk.start + 2}&end=${chunk.end + 50}`);
    expect(reply.body).toEqual({ chunkId: chunk.id, docId: chunk.docId, start: chunk.start + 2, end: chunk.end, clipped: true });
    expectError(await call(base, `/api/drafts/locate?docId=${chunk.docId}&start=99999999&end=100000000`), 404, 'E_NOT_FOUND');
    expectError(await call(base, `/api/drafts/locate?docId=${chunk.docId}&start=5&end=5`), 400, 'E_BAD_REQUEST');
  });
});

describe('the drafting pages', () => {
  it('serves /search, /similar, /basket and /indicators as pages without inline script, under the CSP', async () => {
    for (const path of ['/search', '/similar', '/basket', '/indicators']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).not.toContain('unsafe-inline');
      const html = await res.text();
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/\son[a-z]+=/i);
      expect(html).not.toMatch(/\sstyle=/i);
      expect(html).toContain('/assets/drafting.css');
    }
  });

  it('serves the chart library from this origin', async () => {
    const res = await fetch(`${base}/assets/vendor/chart.umd.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await res.text()).length).toBeGreaterThan(100_000);
    for (const asset of ['search.js', 'search-view.js', 'similar.js', 'basket.js', 'indicators.js', 'drafting-common.js', 'drafting-nav.js', 'drafting.css', 'theme.css']) {
      expect((await fetch(`${base}/assets/${asset}`)).status).toBe(200);
    }
  });
});

describe('a drafting route asked with another method', () => {
  it.each([
    ['DELETE', '/api/similar', 'GET, HEAD'],
    ['POST', '/api/drafts/locate', 'GET, HEAD'],
    ['PUT', '/api/indicators', 'GET, HEAD'],
    ['GET', '/api/drafts/export', 'POST'],
    ['GET', '/api/drafts/resolve', 'POST'],
    ['POST', '/indicators', 'GET, HEAD'],
    ['POST', '/basket', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, route, allow) => {
    const reply = await call(base, route, { method });
    expectError(reply, 405, 'E_BAD_REQUEST');
    expect(reply.headers.get('allow')).toBe(allow);
  });
});
