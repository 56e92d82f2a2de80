/**
 * The chat widget in a real browser (Debian chromium through playwright-core), embedded with the
 * one documented tag in a town website served from another loopback origin, talking to the real
 * app over the real index and model.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/service.js';
import { createApp } from '../../src/server/app.js';
import { openTestService } from '../services.js';
import { chromiumForTests, launchBrowser, listen, serveHostSite, type HostSite, type Listening } from './harness.js';
import { answerStates, ask, focusedInWidget, inViewport, lastTurn, openWidget, pressUntilFocused, recordAnswerStates, W } from './widget-driver.js';

const chromiumPath = chromiumForTests();

const QUESTION = '梅李镇2023年教育有什么打算?';

describe.skipIf(!chromiumPath)('the chat widget on a town website', () => {
  let browser: Browser;
  let service: QaService;
  let site: HostSite;
  let app: Listening;
  const extra: Array<{ close(): Promise<void> }> = [];

  beforeAll(async () => {
    let config;
    ({ service, config } = await openTestService());
    site = await serveHostSite();
    app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [site.origin] }));
    site.setApp(app.origin);
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    for (const c of [...extra, app, site]) await c?.close();
  });

  /** A fresh browser profile (no sessionStorage carried over) with a page that logs CSP trouble. */
  async function freshPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return { context, page, problems };
  }

  it('adds one floating button in a shadow root, one global, no third-party request, untouched by the site CSS and CSP', async () => {
    const { context, page, problems } = await freshPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(site.origin);
    const launcher = page.getByRole('button', { name: '打开梅李镇政务问答' });
    await expect(launcher.isVisible()).resolves.toBe(true);
    expect(await page.evaluate(() => document.querySelector('town-qa')?.shadowRoot?.mode)).toBe('open');
    // The site's `button { background: lime !important }` does not reach inside.
    const style = await page.locator(W.launcher).evaluate((el) => ({ bg: getComputedStyle(el).backgroundColor, font: getComputedStyle(el).fontFamily }));
    expect(style.bg).toBe('rgb(179, 38, 30)');
    expect(style.font).not.toMatch(/^serif/);
    // One global: compared with the same site's page without the tag, only TownQA is new.
    const bare = await context.newPage();
    await bare.goto(`${site.origin}/?bare`);
    const before = new Set(await bare.evaluate(() => Object.getOwnPropertyNames(window)));
    const after = await page.evaluate(() => Object.getOwnPropertyNames(window));
    expect(after.filter((g) => !before.has(g))).toEqual(['TownQA']);
    await openWidget(page);
    await page.locator(W.suggestion).first().waitFor();
    for (const url of requested) expect(url.startsWith(site.origin) || url.startsWith(app.origin)).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('takes its title, accent colour, placement and town from data attributes, keeping text readable on a light accent', async () => {
    site.setApp(app.origin, { 'data-town': '牛塘', 'data-title': '牛塘问政', 'data-accent': '#ffd400', 'data-position': 'bottom-left' });
    try {
      const { context, page, problems } = await freshPage();
      await page.goto(site.origin);
      const launcher = page.getByRole('button', { name: '打开牛塘问政' });
      const box = (await launcher.boundingBox())!;
      expect(box.x).toBeLessThan(100);
      const colours = await launcher.evaluate((el) => ({ bg: getComputedStyle(el).backgroundColor, fg: getComputedStyle(el).color }));
      // A yellow accent gets dark text on it, not white.
      expect(colours).toEqual({ bg: 'rgb(255, 212, 0)', fg: 'rgb(17, 17, 17)' });
      await launcher.click();
      await expect(page.locator('town-qa h2').textContent()).resolves.toContain('牛塘问政');
      // "牛塘" is settled on the town the service knows as 牛塘镇.
      await page.locator(W.suggestion).first().waitFor();
      for (const s of await page.locator(W.suggestion).allTextContents()) expect(s).toContain('牛塘镇');
      const sent = page.waitForRequest((r) => r.url().endsWith('/api/ask/stream'));
      await ask(page, '上半年申报了多少家国家高新技术企业?');
      expect(JSON.parse((await sent).postData()!).filters).toEqual({ town: '牛塘镇' });
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      site.setApp(app.origin, { 'data-town': '梅李镇' });
    }
  });

  it('streams the answer to a typed question, links each [n] to its citation, and highlights the quoted sentence', async () => {
    const { context, page, problems } = await freshPage();
    const bodies: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/ask/stream')) bodies.push(r.postData() ?? '');
    });
    await page.goto(site.origin);
    await openWidget(page);
    // First-time users get questions from the town's own reports.
    const suggestions = await page.locator(W.suggestion).allTextContents();
    expect(suggestions.length).toBeGreaterThan(0);
    for (const s of suggestions) expect(s).toContain('梅李镇');

    await recordAnswerStates(page);
    const bot = await ask(page, QUESTION);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ question: QUESTION, filters: { town: '梅李镇' } });
    const states = await answerStates(page);
    expect(states[0]).toMatchObject({ pending: true, done: false });
    // Text was on screen before the answer was complete: it arrived as a stream.
    expect(states.some((s) => s.answer.length > 0 && !s.done)).toBe(true);

    const expected = await service.ask({ question: QUESTION, filters: { town: '梅李镇' } });
    await expect(bot.locator('.answer').textContent()).resolves.toBe(expected.answer);
    // Once done, nothing says it is still working.
    await expect(bot.locator('.pending').count()).resolves.toBe(0);
    await expect(bot.getAttribute('aria-busy')).resolves.toBe('false');
    const markers = bot.locator('.answer a.marker');
    expect(await markers.count()).toBeGreaterThan(0);
    const marker = markers.first();
    const n = Number(await marker.getAttribute('data-n'));
    const citation = expected.citations.find((c) => c.n === n)!;
    expect(await marker.getAttribute('href')).toBe(`${app.origin}/documents/${encodeURIComponent(citation.docId)}?start=${citation.start}&end=${citation.end}&qs=${citation.quote!.start}&qe=${citation.quote!.end}`);

    await marker.click();
    const item = bot.locator(`.cite[data-n="${n}"]`);
    const body = item.locator('.cite-b');
    await expect(body.isVisible()).resolves.toBe(true);
    expect(await focusedInWidget(page)).toMatch(/^button\.cite-t/);
    const shown = await item.textContent();
    for (const part of [citation.town, citation.title, citation.date, citation.section]) expect(shown).toContain(part);
    const quoted = citation.text.slice(citation.quote!.start - citation.start, citation.quote!.end - citation.start);
    const mark = body.locator('mark');
    expect(await mark.textContent()).toBe(quoted);
    await expect(body.locator('blockquote').textContent()).resolves.toContain(citation.text.slice(0, 20));

    // "在原文中查看" opens the document view at the quoted sentence.
    const [docPage] = await Promise.all([context.waitForEvent('page'), body.getByRole('link', { name: /在原文中查看/ }).click()]);
    await docPage.locator('mark.quote').first().waitFor();
    const quoteText = (await docPage.locator('mark.quote').allTextContents()).join('');
    expect(quoteText).toBe(quoted);
    await docPage.waitForFunction(() => {
      const r = document.querySelector('mark.quote')!.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= innerHeight;
    });
    expect(await inViewport(docPage.locator('mark.quote').first())).toBe(true);

    // Copy gives the answer and its sources as plain text.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.origin });
    await bot.locator('.copy').click();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toContain(`问：${QUESTION}`);
    expect(copied).toContain(`答：${expected.answer}`);
    expect(copied).toContain(`[${n}] ${citation.town}《${citation.title}》`);
    expect(copied).toContain(quoted);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a found: false answer as not found, with the nearest passages marked as not an answer', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    const bot = await ask(page, '梅李镇今年要建几个火箭发射场?');
    await expect(bot.getAttribute('class')).resolves.toContain('notfound');
    await expect(bot.locator('.badge').textContent()).resolves.toBe('未在报告中找到依据');
    await expect(bot.locator('.cites-h').textContent()).resolves.toContain('并非答案');
    expect(await bot.locator('a.marker').count()).toBe(0);
    await context.close();
  });

  it('works on a 360×740 phone screen', async () => {
    // Reduced motion also checks that the panel appears without animation when asked.
    const { context, page, problems } = await freshPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, reducedMotion: 'reduce' });
    await page.goto(site.origin);
    const launcher = await page.locator(W.launcher).boundingBox();
    expect(launcher!.x + launcher!.width).toBeLessThanOrEqual(360);
    expect(launcher!.height).toBeGreaterThanOrEqual(44);
    await page.locator(W.launcher).tap();
    // Full screen on a phone.
    const panel = (await page.locator(W.panel).boundingBox())!;
    expect([panel.x, panel.y, panel.width, panel.height].map(Math.round)).toEqual([0, 0, 360, 740]);
    const bot = await ask(page, QUESTION);
    await bot.locator('a.marker').first().tap();
    await expect(bot.locator('.cite-b mark').first().isVisible()).resolves.toBe(true);
    // Nothing overflows sideways: no horizontal scrolling on a phone.
    const overflow = await page.evaluate(() => {
      const log = document.querySelector('town-qa')!.shadowRoot!.querySelector('.log')!;
      return { page: document.documentElement.scrollWidth, log: log.scrollWidth - log.clientWidth };
    });
    expect(overflow.page).toBeLessThanOrEqual(360);
    expect(overflow.log).toBeLessThanOrEqual(0);
    await page.getByRole('button', { name: '关闭问答窗口' }).tap();
    await expect(page.locator(W.panel).isVisible()).resolves.toBe(false);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('is operable with the keyboard alone: open, type, send, reach a citation, close with Escape', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await pressUntilFocused(page, 'Tab', /^button\.launcher/);
    await page.keyboard.press('Enter');
    await expect(page.getByRole('dialog', { name: /梅李镇政务问答/ }).isVisible()).resolves.toBe(true);
    expect(await focusedInWidget(page)).toMatch(/^textarea/);
    await page.keyboard.type(QUESTION);
    await page.keyboard.press('Enter');
    await lastTurn(page).locator('.copy').waitFor();
    expect(await focusedInWidget(page)).toMatch(/^textarea/);
    await pressUntilFocused(page, 'Shift+Tab', /^a\.marker/);
    await page.keyboard.press('Enter');
    expect(await focusedInWidget(page)).toMatch(/^button\.cite-t/);
    await expect(page.locator('town-qa .cite-t[aria-expanded=true]').count()).resolves.toBe(1);
    await expect(lastTurn(page).locator('.cite-b mark').first().isVisible()).resolves.toBe(true);
    // Enter on the citation toggles it closed and open again.
    await page.keyboard.press('Enter');
    await expect(page.locator('town-qa .cite-t[aria-expanded=true]').count()).resolves.toBe(0);
    await page.keyboard.press('Escape');
    await expect(page.locator(W.panel).isVisible()).resolves.toBe(false);
    expect(await focusedInWidget(page)).toMatch(/^button\.launcher/);
    // Chinese labels for screen readers.
    await expect(page.getByRole('button', { name: '打开梅李镇政务问答' }).getAttribute('aria-expanded')).resolves.toBe('false');
    await page.keyboard.press('Enter');
    for (const [role, name] of [['textbox', /输入问题/], ['button', '清空对话'], ['button', '关闭问答窗口'], ['region', '对话记录']] as const) {
      expect(await page.getByRole(role, { name }).count()).toBe(1);
    }
    await context.close();
  });

  it('keeps the conversation across a page navigation within the site, and clears it', async () => {
    const { context, page } = await freshPage();
    await page.goto(site.origin);
    await openWidget(page);
    await ask(page, QUESTION);
    await page.getByRole('link', { name: '政务公开' }).click();
    await page.waitForURL(/news\.html$/);
    // Still open, same conversation.
    await page.locator(W.panel).waitFor({ state: 'visible' });
    await expect(page.locator(W.turn).count()).resolves.toBe(1);
    await expect(lastTurn(page).locator('.user').textContent()).resolves.toContain(QUESTION);
    await expect(lastTurn(page).locator('a.marker').count()).resolves.toBeGreaterThan(0);
    // A follow-up carries the earlier turn as history.
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/ask/stream'));
    await ask(page, '就业方面呢?');
    const expected = await service.ask({ question: QUESTION, filters: { town: '梅李镇' } });
    expect(JSON.parse((await sent).postData()!).history).toEqual([{ question: QUESTION, answer: expected.answer }]);
    await expect(page.locator(W.turn).count()).resolves.toBe(2);
    await page.getByRole('button', { name: '清空对话' }).click();
    await expect(page.locator(W.turn).count()).resolves.toBe(0);
    await page.locator(W.suggestion).first().waitFor();
    await page.reload();
    await expect(page.locator(W.turn).count()).resolves.toBe(0);
    await context.close();
  });

  it('gives a page on an origin not in ALLOWED_ORIGINS no access, and the widget offers a retry instead of a blank panel', async () => {
    const stranger = await serveHostSite();
    extra.push(stranger);
    stranger.setApp(app.origin);
    const { context, page, problems } = await freshPage();
    await page.goto(stranger.origin);
    await openWidget(page);
    const bot = await ask(page, QUESTION);
    await expect(bot.locator('.err').textContent()).resolves.toContain('暂时连不上问答服务');
    await expect(bot.getByRole('button', { name: '重试' }).isVisible()).resolves.toBe(true);
    // The browser itself refused: the preflight carried no Access-Control-Allow-Origin.
    expect(problems.some((p) => /blocked by CORS policy/.test(p) && /Access-Control-Allow-Origin/.test(p))).toBe(true);
    await context.close();
  });

  it('shows a friendly message with the wait when rate limited', async () => {
    const limitedSite = await serveHostSite();
    const { service: s, config } = await openTestService();
    const limited = await listen(createApp({ service: s, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [limitedSite.origin], rateLimitPerMinute: 3 }));
    extra.push(limitedSite, limited);
    limitedSite.setApp(limited.origin);
    const { context, page } = await freshPage();
    await page.goto(limitedSite.origin);
    await openWidget(page);
    let message = '';
    for (let i = 0; i < 4 && !message; i++) {
      const bot = await ask(page, `${QUESTION}${'?'.repeat(i)}`);
      if (await bot.locator('.err').count()) message = (await bot.locator('.err').textContent()) ?? '';
    }
    expect(message).toMatch(/^提问太频繁了，请\d+秒后再试/);
    await expect(lastTurn(page).getByRole('button', { name: '重试' }).isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('shows a retry while the service is unavailable (503), and the retry answers once it is back', async () => {
    const downSite = await serveHostSite();
    let up: QaService | undefined;
    const { config } = await openTestService();
    const down = await listen(createApp({ getService: () => up, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [downSite.origin] }));
    extra.push(downSite, down);
    downSite.setApp(down.origin);
    const { context, page } = await freshPage();
    await page.goto(downSite.origin);
    await openWidget(page);
    const bot = await ask(page, QUESTION);
    await expect(bot.locator('.err').textContent()).resolves.toBe('问答服务正在准备中，请稍后重试。');
    up = service;
    await bot.getByRole('button', { name: '重试' }).click();
    await lastTurn(page).locator('.copy').waitFor();
    await expect(lastTurn(page).locator('a.marker').count()).resolves.toBeGreaterThan(0);
    await context.close();
  });
});
