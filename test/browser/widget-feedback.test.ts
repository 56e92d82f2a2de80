/**
 * What residents and staff expect beyond a cited answer (issue 16), in real chromium, with the
 * widget embedded by the one documented tag in a town website on another origin and the real app
 * over the real index and model: feedback that reaches the staff lists, next-question chips that
 * each get an answer, the contact line when nothing is found, the town's welcome and presets (from
 * config/towns.json and from data-* attributes), absolute links to the commitment list, citation
 * rows that tell one passage of a report from another, the three outcomes shown apart, and the
 * staff page's "加入草稿" event.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/service.js';
import { createFileFeedbackStore } from '../../src/feedback/store.js';
import { createApp } from '../../src/server/app.js';
import { testAdminDeps } from '../admin-deps.js';
import { loadTownsConfig, settingsFor } from '../../src/towns-config.js';
import { openTestService } from '../services.js';
import { chromiumForTests, launchBrowser, listen, serveHostSite, type HostSite, type Listening } from './harness.js';
import { ask, lastTurn, openWidget, W } from './widget-driver.js';

const chromiumPath = chromiumForTests();
const TOKEN = 'widget-feedback-admin-token-0123456789';
const TOWNS = loadTownsConfig(path.resolve('config/towns.json'));
const MEILI = settingsFor(TOWNS, '梅李镇');
const QUESTION = '梅李镇2023年教育有什么打算?';
const NOT_FOUND = '梅李镇今年要建几个火箭发射场?';

describe.skipIf(!chromiumPath)('feedback, next questions and a way to reach a person, in the widget', () => {
  let browser: Browser;
  let service: QaService;
  let site: HostSite;
  let app: Listening;
  let dir = '';

  beforeAll(async () => {
    const { service: s, config, embedder } = await openTestService();
    service = s;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-widget-fb-'));
    site = await serveHostSite();
    app = await listen(
      createApp({
        service,
        maxQuestionChars: config.maxQuestionChars,
        defaultTopK: config.defaultTopK,
        allowedOrigins: [site.origin],
        admin: testAdminDeps(service, { token: TOKEN, dir }),
        feedback: { store: createFileFeedbackStore({ dir: path.join(dir, 'feedback') }), embed: (t) => embedder.embedQuery(t), towns: TOWNS, perMinute: 0 },
      }),
    );
    site.setApp(app.origin);
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of [app, site]) await c?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function freshPage(): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    return { context, page, problems };
  }

  const withAttributes = async (attributes: Record<string, string>, run: () => Promise<void>): Promise<void> => {
    site.setApp(app.origin, attributes);
    try {
      await run();
    } finally {
      site.setApp(app.origin, { 'data-town': '梅李镇' });
    }
  };

  it('sends a 👎 with a reason and a comment, and staff find it in /api/admin/unanswered', async () => {
    const { context, page, problems } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    const bot = await ask(page, QUESTION);
    await bot.getByRole('button', { name: '没帮助' }).click();
    await bot.getByRole('button', { name: '引用不对' }).click();
    await bot.getByRole('textbox', { name: '补充说明（选填）' }).fill('想看幼儿园的开学时间');
    const posted = page.waitForRequest((r) => r.url().endsWith('/api/feedback'));
    await bot.getByRole('button', { name: '提交反馈' }).click();
    expect(JSON.parse((await posted).postData()!)).toMatchObject({ rating: 'down', reason: '引用不对', comment: '想看幼儿园的开学时间', answerId: expect.any(String) });
    await bot.getByText('感谢反馈，我们会转给工作人员改进。').waitFor();

    const res = await fetch(`${app.origin}/api/admin/unanswered`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { groups } = (await res.json()) as { groups: Array<{ question: string; reasons: Record<string, number>; comments: string[]; towns: string[]; ratings: { down: number } }> };
    const group = groups.find((g) => g.question === QUESTION);
    expect(group).toMatchObject({ reasons: { 引用不对: 1 }, comments: ['想看幼儿园的开学时间'], towns: ['梅李镇'], ratings: { down: 1 } });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('offers next-question chips after an answer, and each one, clicked, gets an answer', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    await ask(page, QUESTION);
    const chips = lastTurn(page).locator('.next button');
    await chips.first().waitFor();
    const offered = await chips.allTextContents();
    expect(offered.length).toBeGreaterThanOrEqual(2);
    expect(offered.length).toBeLessThanOrEqual(3);
    await context.close();

    for (const question of offered) {
      const { context: c, page: p } = await freshPage();
      await p.goto(site.origin);
      await openWidget(p);
      await ask(p, QUESTION);
      const sent = p.waitForRequest((r) => r.url().endsWith('/api/ask/stream') && JSON.parse(r.postData()!).question === question);
      await lastTurn(p).locator('.next button', { hasText: question }).click();
      const body = JSON.parse((await sent).postData()!);
      // A chip stands on its own: sent as checked, with the town and without history.
      expect(body).toEqual({ question, filters: { town: '梅李镇' } });
      const bot = lastTurn(p).locator('.bot');
      await bot.locator('.copy').waitFor();
      await expect(bot.getAttribute('class')).resolves.not.toMatch(/notfound|partial/);
      expect(await bot.locator('.badge').count()).toBe(0);
      expect(await bot.locator('a.marker').count()).toBeGreaterThan(0);
      await c.close();
    }
  });

  it('shows the town\'s contact line with a not_found answer, and the page\'s data-contact instead when given', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    const bot = await ask(page, NOT_FOUND);
    await expect(bot.getAttribute('class')).resolves.toContain('notfound');
    await expect(bot.locator('.contact').textContent()).resolves.toBe(`需要人工帮助：${MEILI.contact}（${MEILI.hours}）`);
    await context.close();

    await withAttributes({ 'data-town': '梅李镇', 'data-contact': '镇政府办公室 0512-00000000' }, async () => {
      const { context: c, page: p } = await freshPage();
      await p.goto(site.origin);
      await openWidget(p);
      const b = await ask(p, NOT_FOUND);
      await expect(b.locator('.contact').textContent()).resolves.toBe('需要人工帮助：镇政府办公室 0512-00000000');
      await c.close();
    });
  });

  it('greets with the town\'s welcome and presets, or with data-welcome and data-presets', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    await page.locator(W.suggestion).first().waitFor();
    await page.locator('town-qa .intro', { hasText: MEILI.welcome! }).waitFor();
    expect(await page.locator(W.suggestion).allTextContents()).toEqual(MEILI.presets);
    await context.close();

    await withAttributes({ 'data-town': '梅李镇', 'data-welcome': '欢迎来到梅李镇问答！', 'data-presets': '梅李镇2023年教育有什么打算?|梅李镇2023年就业有什么打算?' }, async () => {
      const { context: c, page: p } = await freshPage();
      await p.goto(site.origin);
      await openWidget(p);
      await p.locator('town-qa .intro', { hasText: '欢迎来到梅李镇问答！' }).waitFor();
      expect(await p.locator(W.suggestion).allTextContents()).toEqual(['梅李镇2023年教育有什么打算?', '梅李镇2023年就业有什么打算?']);
      await p.locator(W.suggestion).first().click();
      await lastTurn(p).locator('.copy').waitFor();
      await expect(lastTurn(p).locator('a.marker').count()).resolves.toBeGreaterThan(0);
      await c.close();
    });
  });

  it('shows a partial answer apart from an answer and from not found, with the contact line', async () => {
    const question = '临湖镇2023年实际新增了多少家规上企业?';
    // The reports hold only the target for 2023: the service says so as a partial answer.
    const expected = await service.ask({ question, filters: { town: '临湖镇' } });
    expect(expected.status).toBe('partial');
    await withAttributes({ 'data-town': '临湖镇' }, async () => {
      const { context, page } = await freshPage();
      await page.goto(site.origin);
      await openWidget(page);
      const bot = await ask(page, question);
      const classes = (await bot.getAttribute('class'))!.split(/\s+/);
      expect(classes).toContain('partial');
      expect(classes).not.toContain('notfound');
      await expect(bot.locator('.badge').textContent()).resolves.toBe('报告只部分回答了这个问题');
      await expect(bot.locator('.answer').textContent()).resolves.toBe(expected.answer);
      await expect(bot.locator('.cites-h').textContent()).resolves.toBe('相关段落（没有完全回答您的问题）');
      const linhu = settingsFor(TOWNS, '临湖镇');
      await expect(bot.locator('.contact').textContent()).resolves.toBe(`需要人工帮助：${linhu.contact}（${linhu.hours}）`);
      // Styled unlike an answer: a dashed frame on white, not the answer's grey.
      const look = await bot.evaluate((el) => ({ border: getComputedStyle(el).borderStyle, bg: getComputedStyle(el).backgroundColor }));
      expect(look).toEqual({ border: 'dashed', bg: 'rgb(255, 255, 255)' });
      await context.close();
    });
  });

  it('links the commitment list absolutely to the service, opening in a new tab', async () => {
    await withAttributes({ 'data-town': '临湖镇' }, async () => {
      const { context, page } = await freshPage();
      await page.goto(site.origin);
      await openWidget(page);
      const bot = await ask(page, '临湖镇2023年有哪些承诺?');
      const link = bot.locator('.answer a.link');
      await expect(link.getAttribute('href')).resolves.toBe(`${app.origin}/commitments?town=${encodeURIComponent('临湖镇')}&year=2023`);
      await expect(link.getAttribute('target')).resolves.toBe('_blank');
      // No bare path is left in the text.
      await expect(bot.locator('.answer').textContent()).resolves.not.toContain('/commitments?');
      const [tab] = await Promise.all([context.waitForEvent('page'), link.click()]);
      await tab.waitForURL(`${app.origin}/commitments?**`);
      await tab.locator('#summary').filter({ hasText: /\d/ }).waitFor();
      await context.close();
    });
  });

  it('tells the collapsed citations of one report apart by section and first words', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    // Not found: every nearest passage is listed, all from 梅李镇's one report.
    const bot = await ask(page, NOT_FOUND);
    const rows = await bot.locator('.cite-t').allTextContents();
    expect(rows.length).toBeGreaterThan(1);
    expect(new Set(rows).size).toBe(rows.length);
    // Each row quotes its first words; rows with a section name it (a preamble has none).
    for (const row of rows) expect(row).toMatch(/(§ .+ · )?“.+/);
    expect(rows.filter((r) => r.includes('§ ')).length).toBeGreaterThan(1);
    await context.close();
  });

  it('puts a 加入草稿 button on each citation of the staff page, which tells the page what to add', async () => {
    const { context, page } = await freshPage();
    await page.goto(app.origin);
    await page.evaluate(() => {
      (window as unknown as { __added: unknown[] }).__added = [];
      document.addEventListener('qa:basket-add', (e) => (window as unknown as { __added: unknown[] }).__added.push((e as CustomEvent).detail));
    });
    const bot = await ask(page, '牛塘镇上半年申报了多少家国家高新技术企业?');
    const expected = await service.ask({ question: '牛塘镇上半年申报了多少家国家高新技术企业?' });
    const first = expected.citations[0]!;
    await bot.locator('.cite').first().getByRole('button', { name: /加入草稿/ }).click();
    const added = await page.evaluate(() => (window as unknown as { __added: unknown[] }).__added);
    expect(added).toEqual([{ chunkId: first.chunkId, start: first.quote!.start, end: first.quote!.end }]);
    // The staff page filters no town, yet a chip goes out with the town it was checked for.
    const chip = lastTurn(page).locator('.next button').first();
    await chip.waitFor();
    const chipText = await chip.textContent();
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/ask/stream'));
    await chip.click();
    expect(JSON.parse((await sent).postData()!)).toEqual({ question: chipText, filters: { town: '牛塘镇' } });
    // The town website's widget has no such button.
    const { context: c, page: p } = await freshPage();
    await p.goto(site.origin);
    await openWidget(p);
    const b = await ask(p, QUESTION);
    expect(await b.getByRole('button', { name: /加入草稿/ }).count()).toBe(0);
    await c.close();
    await context.close();
  });
});
