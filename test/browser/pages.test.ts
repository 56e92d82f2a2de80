/**
 * The staff page (/) and the document view (/documents/:docId) in a real browser under the
 * server's strict CSP, and corpus text that contains HTML markup, which must show as characters
 * in the widget and the document view and never run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { ingestCorpus } from '../../src/index/build.js';
import { loadIndex } from '../../src/index/store.js';
import { createApp } from '../../src/server/app.js';
import { openTestService } from '../services.js';
import { chromiumForTests, launchBrowser, listen, serveHostSite, type HostSite, type Listening } from './harness.js';
import { ask, inViewport, openWidget } from './widget-driver.js';

const chromiumPath = chromiumForTests();

let browser: Browser;

beforeAll(async () => {
  if (chromiumPath) browser = await launchBrowser(chromiumPath);
});

afterAll(async () => {
  await browser?.close();
});

/** A fresh profile and page that records script errors, CSP violations and dialogs. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  context.on('page', (p) => watch(p, problems));
  watch(page, problems);
  return { context, page, problems };
}

function watch(page: Page, problems: string[]): void {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
}

describe.skipIf(!chromiumPath)('the staff page and the document view', () => {
  let app: Listening;
  let service: QaService;

  beforeAll(async () => {
    let config;
    ({ service, config } = await openTestService());
    app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK }));
  });

  afterAll(() => app?.close());

  it('offers the chat with town and year filters, and lists the reports, with no CSP violation', async () => {
    const { context, page, problems } = await freshPage();
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/ask/stream')) bodies.push(r.postData() ?? '');
    });
    await page.goto(app.origin);
    // The same widget, inline, with no floating button.
    await page.locator('town-qa .panel').waitFor({ state: 'visible' });
    expect(await page.locator('town-qa .launcher').count()).toBe(0);
    const town = page.getByRole('combobox', { name: '按镇筛选' });
    const year = page.getByRole('combobox', { name: '按年份筛选' });
    await page.waitForFunction(() => (document.querySelector('town-qa')?.shadowRoot?.querySelectorAll('select option').length ?? 0) > 4);
    expect(await town.locator('option').allTextContents()).toEqual(['全部镇（街道）', ...service.towns]);
    expect(await year.locator('option').allTextContents()).toContain('2022年');
    await expect(page.locator('#report-list a').count()).resolves.toBe(service.stats().documents);

    await town.selectOption('牛塘镇');
    await year.selectOption('2022');
    const bot = await ask(page, '上半年申报了多少家国家高新技术企业?');
    expect(JSON.parse(bodies[0]!)).toMatchObject({ filters: { town: '牛塘镇', year: 2022 } });
    await expect(bot.locator('.answer').textContent()).resolves.toContain('35家');
    // The filters survive a reload (sessionStorage), like the conversation.
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('town-qa')?.shadowRoot?.querySelectorAll('select option').length ?? 0) > 4);
    await expect(town.inputValue()).resolves.toBe('牛塘镇');
    await expect(page.locator('town-qa .turn').count()).resolves.toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('opens a citation in the document view with the passage highlighted and scrolled into view', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(app.origin);
    const bot = await ask(page, '临湖镇2023年计划新增多少个智改数转项目?');
    await bot.locator('a.marker').first().click();
    const [doc] = await Promise.all([context.waitForEvent('page'), bot.getByRole('link', { name: /在原文中查看/ }).first().click()]);
    await doc.locator('mark.passage').first().waitFor();
    expect(doc.url()).toMatch(/\/documents\/linhu-2022-summary-2023-plan\?start=\d+&end=\d+&qs=\d+&qe=\d+$/);
    await expect(doc.locator('h1').textContent()).resolves.toContain('临湖镇');
    await expect(doc.locator('mark.quote').allTextContents()).resolves.toEqual([expect.stringContaining('40个')]);
    await doc.waitForFunction(() => {
      const r = document.querySelector('mark.quote')!.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    });
    expect(await inViewport(doc.locator('mark.quote'))).toBe(true);
    // Focus moved to the passage, for keyboard and screen-reader users.
    expect(await doc.evaluate(() => document.activeElement?.id)).toBe('passage');
    // The text is the document's cleaned text, whole.
    const { text } = (await service.getDocument('linhu-2022-summary-2023-plan'))!;
    const shown = await doc.locator('#doc-text').evaluate((el) => el.textContent!.replace(/\s/g, ''));
    expect(shown).toBe(text.replace(/\s/g, ''));
    expect(problems).toEqual([]);
    await context.close();
  });

  it('says so when a document does not exist', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${app.origin}/documents/no-such-report`);
    // The page fetches the document after load: wait for the message rather than read the status at once.
    await page.getByRole('status').filter({ hasText: '没有找到这份报告' }).waitFor();
    await expect(page.getByRole('status').textContent()).resolves.toContain('没有找到这份报告');
    await context.close();
  });
});

describe.skipIf(!chromiumPath)('corpus text containing HTML markup', () => {
  const SCRIPT = '<script>alert(1)</script>';
  const IMG = '<img src=x onerror=alert(1)>';
  let dir = '';
  let service: QaService;
  let app: Listening;
  let site: HostSite;

  beforeAll(async () => {
    const { embedder, config } = await openTestService();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-markup-'));
    const corpusDir = path.join(dir, 'corpus');
    fs.mkdirSync(corpusDir);
    fs.writeFileSync(
      path.join(corpusDir, 'ceshi-2023-summary.txt'),
      [
        '测试镇2023年工作总结及2024年工作计划',
        '',
        '一、2023年工作回顾',
        '（一）民生事业',
        `测试镇全年新建老年活动中心3个，${SCRIPT}为老人提供助餐服务1200人次。`,
        `全镇新建口袋公园2座，${IMG}绿化面积增加5万平方米。`,
        '（二）经济发展',
        '全年完成一般公共预算收入3.2亿元，同比增长6%。',
        '',
        '二、2024年工作计划',
        '计划新增养老床位80张，建成社区食堂2家。',
      ].join('\n'),
    );
    fs.writeFileSync(path.join(corpusDir, 'ceshi-2023-summary.meta.json'), JSON.stringify({ town: '测试镇', title: '测试镇2023年工作总结及2024年工作计划', date: '2024-01-10' }));
    const indexDir = path.join(dir, 'index');
    await ingestCorpus({ corpusDir, indexDir, embedder });
    service = await createQaService(snapshotOfLoadedIndex(loadIndex(indexDir, { embeddingModel: embedder.id, dimension: embedder.dimension })), embedder, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD });
    site = await serveHostSite();
    app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [site.origin] }));
    site.setApp(app.origin, { 'data-town': '测试镇' });
  });

  afterAll(async () => {
    await app?.close();
    await site?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows the markup as characters in the answer, the citation and the document view, and runs none of it', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    const bot = await ask(page, '测试镇新建了几个老年活动中心?');
    await expect(bot.locator('.answer').textContent()).resolves.toContain(SCRIPT);
    await bot.locator('a.marker').first().click();
    const passage = await bot.locator('.cite-b blockquote').first().textContent();
    expect(passage).toContain(SCRIPT);
    expect(passage).toContain(IMG);
    const elements = await page.evaluate(() => document.querySelector('town-qa')!.shadowRoot!.querySelectorAll('script, img').length);
    expect(elements).toBe(0);

    const [doc] = await Promise.all([context.waitForEvent('page'), bot.getByRole('link', { name: /在原文中查看/ }).first().click()]);
    await doc.locator('mark.quote').first().waitFor();
    const text = await doc.locator('#doc-text').textContent();
    expect(text).toContain(SCRIPT);
    expect(text).toContain(IMG);
    expect(await doc.locator('#doc-text script, #doc-text img').count()).toBe(0);
    // Give an onerror handler, had one been created, time to fire.
    await doc.waitForTimeout(300);
    expect(problems).toEqual([]);
    await context.close();
  });
});
