/**
 * The drafting workspace in real Chromium under the server's CSP: search grouped by town, "how
 * others put it", the basket filled from search, the document view and the chat, reordered by
 * mouse and keyboard, kept over a reload, exported (the .docx and .md parsed back), the
 * indicator view with its chart, keyboard-only use and a 360 px phone.
 */
import fs from 'node:fs';
import JSZip from 'jszip';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/service.js';
import { createApp } from '../../src/server/app.js';
import type { Chunk } from '../../src/domain/types.js';
import { allChunks, allReports, openTestService } from '../services.js';
import { chromiumForTests, launchBrowser, listen, type Listening } from './harness.js';
import { ask } from './widget-driver.js';

const chromiumPath = chromiumForTests();

let browser: Browser;
let app: Listening;
let service: QaService;
/** Every report with its text (the service holds none). */
let reports: Map<string, import('../../src/domain/types.js').ParsedDocument>;

beforeAll(async () => {
  if (!chromiumPath) return;
  browser = await launchBrowser(chromiumPath);
  let config;
  ({ service, config } = await openTestService());
  chunks = await allChunks(service.index);
  reports = await allReports(service.index);
  app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK }));
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function freshPage(viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  return { context, page, problems };
}

/** Every chunk of the index, read through the store once. */
let chunks: Chunk[];

const basketItems = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]') as Array<{ chunkId: string; start?: number; end?: number; note?: string }>);

/** The resolved quote of a basket item, as the index holds it. */
function quoteOf(item: { chunkId: string; start?: number; end?: number }) {
  const chunk = chunks.find((c) => c.id === item.chunkId)!;
  const doc = reports.get(chunk.docId)!;
  return { text: doc.text.slice(item.start ?? chunk.start, item.end ?? chunk.end).trim(), town: chunk.town, title: doc.meta.title, section: chunk.sectionPath.join(' > ') };
}

describe.skipIf(!chromiumPath)('the drafting workspace', () => {
  it('groups a search by town and report, highlights the words, and shows how other towns put a 乡村振兴 sentence', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(`${app.origin}/search?q=${encodeURIComponent('乡村振兴')}`);
    await page.locator('.town-group').first().waitFor();
    const headings = await page.locator('.town-group > h2').allTextContents();
    expect(headings.length).toBeGreaterThanOrEqual(2);
    expect(new Set(headings.map((h) => h.replace(/（.*$/, ''))).size).toBe(headings.length);
    expect(await page.locator('mark.hit', { hasText: '乡村振兴' }).count()).toBeGreaterThan(0);
    expect(await page.locator('.report-group > h3').first().textContent()).toMatch(/《.+》/);
    // Each group holds only its town's passages (checked against the API's own answer).
    const group = page.locator('.town-group').filter({ hasText: '淀山湖镇' }).first();
    const result = group.locator('.result').filter({ has: page.locator('mark.hit', { hasText: '乡村振兴' }) }).first();
    // Words selected in a result go into the basket alone, at their own offsets.
    const selectIn = (text: string) =>
      result.locator('.text').evaluate((node, t) => {
        const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          const i = n.textContent!.indexOf(t);
          if (i < 0) continue;
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + t.length);
          document.getSelection()!.removeAllRanges();
          document.getSelection()!.addRange(range);
          return;
        }
        throw new Error(`${t} not in the result`);
      }, text);
    await selectIn('乡村振兴');
    await result.getByRole('button', { name: '加入草稿' }).click();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 1);
    expect(quoteOf((await basketItems(page))[0]!).text).toBe('乡村振兴');
    await result.getByRole('link', { name: '他镇写法' }).click();
    await page.locator('.town-column').first().waitFor();
    const towns = await page.locator('.town-column > h2').allTextContents();
    const names = towns.map((t) => t.replace(/（.*$/, ''));
    expect(names).not.toContain('淀山湖镇');
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#source .text').textContent()).toContain('乡村振兴');
    expect(await page.locator('.sentence-card').count()).toBeGreaterThanOrEqual(names.length);
    // A sentence of another town goes into the basket with its own offsets.
    await page.locator('.town-column .sentence-card').first().getByRole('button', { name: '加入草稿' }).click();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 2);
    const [, picked] = await basketItems(page);
    expect(quoteOf(picked!).text).toBe((await page.locator('.town-column .sentence-card .text').first().textContent())!.trim());
    expect(problems).toEqual([]);
    await context.close();
  });

  it('collects from search, the document view and the chat; reorders by mouse and keyboard; keeps it over a reload; exports docx and md with a footnote per quote', async () => {
    const { context, page, problems } = await freshPage();
    // The chat on the staff page: its citation rows put passages into the basket.
    await page.goto(app.origin);
    await page.locator('.drafting-nav').waitFor();
    expect(await page.locator('.drafting-nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual(['/', '/search', '/basket', '/commitments', '/indicators']);
    // The shared colours come from theme.css, which each page links before its own styles.
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim())).toBe('#b3261e');
    await page.locator('town-qa .panel').waitFor({ state: 'visible' });
    await ask(page, '淀山湖镇2020年计划地区生产总值达到多少?');
    // The widget (data-basket="true") gives each citation row a 加入草稿 button that sends qa:basket-add.
    await page.locator('town-qa .turn .cite .add').first().click();
    await page.locator('#basket-status', { hasText: '已加入草稿篮' }).waitFor();
    const fromChat = await basketItems(page);
    expect(fromChat).toHaveLength(1);
    // The quoted sentence of the citation: 淀山湖镇's 2020 target.
    expect(quoteOf(fromChat[0]!).text).toContain('107亿元');

    // A search result.
    await page.goto(`${app.origin}/search?q=${encodeURIComponent('营商环境')}`);
    await page.locator('.result').first().waitFor();
    await page.locator('.result').nth(0).getByRole('button', { name: '加入草稿' }).click();
    await page.locator('.result').nth(1).getByRole('button', { name: '加入草稿' }).click();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 3);
    expect(await page.locator('.drafting-nav .count').textContent()).toBe('3');

    // Words selected in the document view.
    const doc = reports.get('linhu-2022-summary-2023-plan')!;
    const phrase = '乡村振兴';
    const at = doc.text.indexOf(phrase);
    const chunk = chunks.find((c) => c.docId === doc.meta.docId && c.start <= at && at < c.end)!;
    await page.goto(`${app.origin}/documents/${doc.meta.docId}?start=${chunk.start}&end=${chunk.end}`);
    await page.locator('mark.passage').first().waitFor();
    await page.evaluate((p) => {
      // Select the phrase inside the highlighted passage, as a mouse drag would.
      const walker = document.createTreeWalker(document.getElementById('doc-text')!, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent!.indexOf(p);
        if (i >= 0 && n.parentElement?.closest('mark.passage')) {
          const range = document.createRange();
          range.setStart(n, i);
          range.setEnd(n, i + p.length);
          document.getSelection()!.removeAllRanges();
          document.getSelection()!.addRange(range);
          return;
        }
      }
      throw new Error('phrase not in the passage');
    }, phrase);
    await page.locator('.selection-bar .what', { hasText: `所选 ${phrase.length} 字` }).waitFor();
    await page.locator('.selection-bar').getByRole('button', { name: '加入草稿' }).click();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 4);
    const added = (await basketItems(page))[3]!;
    expect(doc.text.slice(added.start, added.end)).toBe(phrase);

    // The basket: four items in the order added.
    await page.goto(`${app.origin}/basket`);
    await page.locator('.basket-item').nth(3).waitFor();
    await page.waitForFunction(() => !document.querySelector('.basket-item .text')?.textContent?.includes('正在读取'));
    const order = async () => (await basketItems(page)).map((i) => `${i.chunkId}:${i.start}`);
    const initial = await order();
    // Mouse: drag the last item (by its number) onto the first. Both in view: Playwright's drag
    // scrolls to the target before Chromium starts the drag, which would pick another item.
    await page.setViewportSize({ width: 1280, height: 2000 });
    await page.locator('.basket-item').nth(3).locator('.n').dragTo(page.locator('.basket-item').nth(0).locator('.n'));
    await page.waitForFunction((first) => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').map((i: any) => `${i.chunkId}:${i.start}`)[0] === first, initial[3]);
    expect(await order()).toEqual([initial[3], initial[0], initial[1], initial[2]]);
    // Keyboard: Alt+ArrowDown on the first item moves it down one.
    await page.locator('.basket-item').nth(0).focus();
    await page.keyboard.press('Alt+ArrowDown');
    await page.waitForFunction((second) => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').map((i: any) => `${i.chunkId}:${i.start}`)[1] === second, initial[3]);
    const reordered = await order();
    expect(reordered).toEqual([initial[0], initial[3], initial[1], initial[2]]);
    await page.locator('.basket-item').nth(0).locator('textarea').fill('开头引用');
    await page.locator('.basket-item').nth(0).locator('textarea').blur();
    await page.locator('#title').fill('乡村振兴素材');

    await page.setViewportSize({ width: 1280, height: 900 });
    // A reload keeps order, note and title.
    await page.reload();
    await page.locator('.basket-item').nth(3).waitFor();
    expect(await order()).toEqual(reordered);
    expect(await page.locator('.basket-item').nth(0).locator('textarea').inputValue()).toBe('开头引用');
    expect(await page.locator('#title').inputValue()).toBe('乡村振兴素材');

    // Export: the downloaded Word file holds every quote, each with a footnote naming town, title and section.
    const items = await basketItems(page);
    const [docx] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 Word（.docx）' }).click()]);
    expect(docx.suggestedFilename()).toBe('乡村振兴素材.docx');
    const zip = await JSZip.loadAsync(fs.readFileSync((await docx.path())!));
    const unescape = (t: string) => t.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const texts = (xml: string) => unescape([...xml.matchAll(/<w:t(?:\s[^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).join(''));
    const body = await zip.file('word/document.xml')!.async('string');
    const notes = await zip.file('word/footnotes.xml')!.async('string');
    // Footnotes in order, each after its quote: split the body at the references.
    const pieces = body.split(/<w:footnoteReference w:id="\d+"\/>/);
    expect(pieces).toHaveLength(items.length + 1);
    const footnotes = [...notes.matchAll(/<w:footnote w:id="(\d+)"[^>]*>([\s\S]*?)<\/w:footnote>/g)].filter((m) => Number(m[1]) > 0).map((m) => texts(m[2]!));
    expect(footnotes).toHaveLength(items.length);
    items.forEach((item, i) => {
      const q = quoteOf(item);
      const lines = q.text.split('\n').filter((l) => l.trim());
      expect(texts(pieces[i]!)).toContain(lines.at(-1)!.trim());
      expect(footnotes[i]).toContain(`${q.town}《${q.title}》`);
      if (q.section) expect(footnotes[i]).toContain(q.section);
    });
    expect(texts(body)).toContain('备注：开头引用');

    const [md] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 Markdown' }).click()]);
    const markdown = fs.readFileSync((await md.path())!, 'utf8');
    items.forEach((item, i) => {
      const q = quoteOf(item);
      expect(markdown.replace(/^> /gm, '')).toContain(`${q.text}[^${i + 1}]`);
      expect(markdown).toContain(`[^${i + 1}]: ${q.town}《${q.title}》`);
    });

    // Clearing empties it.
    await page.getByRole('button', { name: '清空草稿篮' }).click();
    await page.locator('.basket-empty').waitFor();
    expect(await basketItems(page)).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('keeps what was typed while the filter choices were still loading (a slow network)', async () => {
    const { context, page, problems } = await freshPage();
    // Hold the reports list, which fills the town and year choices, until the search has shown results.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/api/documents', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${app.origin}/search`);
    await page.locator('#f-q').pressSequentially('营商环境');
    release();
    await page.waitForFunction(() => (document.querySelector('#f-town') as HTMLSelectElement | null)?.options.length! > 1);
    // The choices arrived after the typing: what was typed stays, and Enter searches it.
    expect(await page.locator('#f-q').inputValue()).toBe('营商环境');
    await page.locator('#f-q').press('Enter');
    await page.locator('#results .result').first().waitFor();
    expect(await page.locator('#results .result').first().textContent()).toContain('营商环境');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('works by keyboard alone: search, add a result, move it in the basket', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(app.origin);
    await page.locator('.mode-tabs').waitFor();
    // Tab from the top of the staff page to the 问答 / 检索原文 tabs, then ArrowRight: the search
    // takes the chat's place, and Tab goes into it.
    let focused = '';
    for (let i = 0; i < 20 && focused !== 'tab'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('role') ?? '');
    }
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('问答');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate(() => [document.activeElement?.textContent, document.activeElement?.getAttribute('aria-selected')])).toEqual(['检索原文', 'true']);
    expect(await page.locator('#chat').isHidden()).toBe(true);
    await page.keyboard.press('Tab');
    await page.locator('#f-q').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-q');
    await page.keyboard.type('“优化营商环境”');
    await page.keyboard.press('Enter');
    await page.locator('#search-panel .result').first().waitFor();
    expect(await page.locator('#summary').textContent()).toContain('原话“优化营商环境”');
    expect(await page.locator('#search-panel .town-group').count()).toBeGreaterThanOrEqual(1);
    // Tab to the first two "加入草稿" buttons and press Enter on each.
    for (let n = 0; n < 2; n++) {
      for (let i = 0; i < 60; i++) {
        await page.keyboard.press('Tab');
        if (await page.evaluate(() => document.activeElement?.textContent === '加入草稿')) break;
      }
      await page.keyboard.press('Enter');
    }
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 2);
    const before = (await basketItems(page)).map((i) => i.chunkId);
    await page.goto(`${app.origin}/basket`);
    await page.locator('.basket-item').nth(1).waitFor();
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === '下移第 1 条')) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction((first) => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]')[1]?.chunkId === first, before[0]);
    // Focus stays on the moved item (now last, so on its 上移), so it can be moved again.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('上移第 2 条');
    // The document view opened at a cited sentence offers it to the basket without a mouse selection.
    const chunk = chunks.find((c) => c.text.includes('107亿元'))!;
    const [qs, qe] = chunk.sentences.find(([a, b]) => reports.get(chunk.docId)!.text.slice(a, b).includes('107亿元'))!;
    await page.goto(`${app.origin}/documents/${chunk.docId}?start=${chunk.start}&end=${chunk.end}&qs=${qs}&qe=${qe}`);
    await page.locator('.selection-bar .what', { hasText: '引用的句子' }).waitFor();
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.closest('.selection-bar') !== null && document.activeElement?.textContent === '加入草稿')) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 3);
    expect((await basketItems(page))[2]).toMatchObject({ chunkId: chunk.id, start: qs, end: qe });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the indicator table with plan and outcome side by side and a chart, under the CSP', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(`${app.origin}/indicators?town=${encodeURIComponent('淀山湖镇')}&indicator=${encodeURIComponent('地区生产总值')}`);
    await page.locator('table.indicators').waitFor();
    const rows = await page.locator('table.indicators tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim() ?? '')));
    expect(rows).toContainEqual(['淀山湖镇', '2019', '—', '105亿元', '—', '地区生产总值']);
    expect(rows).toContainEqual(['淀山湖镇', '2020', '107亿元', '—', '—', '地区生产总值']);
    await page.waitForFunction(() => {
      const canvas = document.getElementById('chart') as HTMLCanvasElement;
      return Boolean((window as any).Chart?.getChart(canvas));
    });
    expect(await page.locator('#chart').getAttribute('aria-label')).toContain('107亿元');
    // A figure opens its sentence in the document view.
    const href = await page.locator('table.indicators a', { hasText: '107亿元' }).getAttribute('href');
    expect(href).toMatch(/^\/documents\/dianshanhu-2020-work-report\?start=\d+&end=\d+&qs=\d+&qe=\d+$/);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('adds a commitment from the commitments view, which links to the other views', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(`${app.origin}/commitments?town=${encodeURIComponent('临湖镇')}`);
    await page.locator('#results tbody tr').first().waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--accent').trim())).toBe('#b3261e');
    expect(await page.locator('.drafting-nav a[href="/basket"]').count()).toBe(1);
    await page.locator('#results .add-basket').first().click();
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('qa.basket.v1') ?? '[]').length === 1);
    const [item] = await basketItems(page);
    const q = quoteOf(item!);
    expect(q.town).toBe('临湖镇');
    // The item is the commitment's sentence, as the index holds it.
    expect(await page.locator('#results tbody tr').first().locator('.clause span').first().textContent()).toSatisfy((clause: string) => q.text.includes(clause.slice(0, 6)));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows the commitments a page at a time, the next page under the list on request', async () => {
    const { context, page, problems } = await freshPage();
    const all = (await (await fetch(`${app.origin}/api/commitments`)).json()) as { total: number; commitments: Array<{ id: string }> };
    expect(all.total).toBeGreaterThan(100);
    await page.goto(`${app.origin}/commitments?limit=50`);
    await page.locator('#results tbody tr').first().waitFor({ timeout: 60_000 });
    expect(await page.locator('#results tbody tr:not(.detail-row)').count()).toBe(50);
    expect(await page.locator('#summary').textContent()).toContain(`共 ${all.total} 项承诺`);
    expect(await page.locator('#summary').textContent()).toContain('已显示 50 项');
    await page.locator('#results button.more').click();
    await page.waitForFunction(() => document.getElementById('summary')?.textContent?.includes('已显示 100 项'));
    expect(await page.locator('#results tbody tr:not(.detail-row)').count()).toBe(100);
    // The CSV link is the whole list: no page size in it.
    expect(await page.locator('#csv').getAttribute('href')).toBe('/api/commitments?format=csv');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a 360 px phone on every drafting view', async () => {
    const { context, page, problems } = await freshPage({ width: 360, height: 740 });
    const chunk = chunks.find((c) => c.text.includes('乡村振兴'))!;
    // A basket with an item, so the phone sees a filled one.
    await page.goto(`${app.origin}/basket`);
    await page.evaluate((c) => localStorage.setItem('qa.basket.v1', JSON.stringify([{ id: 'p', chunkId: c.id, note: '' }])), { id: chunk.id });
    for (const path of [`/search?q=${encodeURIComponent('乡村振兴')}`, `/similar?chunkId=${encodeURIComponent(chunk.id)}`, '/basket', '/indicators', '/', `/documents/${chunk.docId}?start=${chunk.start}&end=${chunk.end}`]) {
      await page.goto(`${app.origin}${path}`);
      await page.locator('.drafting-nav').waitFor();
      await page.waitForFunction(
        () => !/正在/.test(document.getElementById('summary')?.textContent ?? '') && !/正在/.test(document.getElementById('status')?.textContent ?? '') && !document.getElementById('doc-status') && !document.body.textContent?.includes('正在读取'),
      );
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      expect({ path, width }).toEqual({ path, width: 360 });
    }
    expect(problems).toEqual([]);
    await context.close();
  });
});
