/**
 * The staff insights page (/admin/insights) in real chromium against the real app: the admin
 * token is asked for once per tab and never put in a URL, the lists show what residents asked
 * that the reports did not answer (grouped), and the export is a CSV with a BOM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileFeedbackStore } from '../../src/feedback/store.js';
import { createApp } from '../../src/server/app.js';
import { testAdminDeps } from '../admin-deps.js';
import { loadTownsConfig } from '../../src/towns-config.js';
import { openTestService } from '../services.js';
import { chromiumForTests, launchBrowser, listen, type Listening } from './harness.js';

const chromiumPath = chromiumForTests();
const TOKEN = 'insights-admin-token-0123456789abcdef';

describe.skipIf(!chromiumPath)('the staff insights page', () => {
  let browser: Browser;
  let app: Listening;
  let dir = '';

  beforeAll(async () => {
    const { service, config, embedder } = await openTestService();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qa-insights-'));
    app = await listen(
      createApp({
        service,
        maxQuestionChars: config.maxQuestionChars,
        defaultTopK: config.defaultTopK,
        admin: testAdminDeps(service, { token: TOKEN, dir }),
        feedback: { store: createFileFeedbackStore({ dir: path.join(dir, 'feedback') }), embed: (t) => embedder.embedQuery(t), towns: loadTownsConfig(path.resolve('config/towns.json')), perMinute: 0 },
      }),
    );
    // Residents' feedback, through the public API as the widget sends it.
    const rate = async (question: string, rating: 'up' | 'down', extra: Record<string, string> = {}, town?: string): Promise<void> => {
      const asked = await fetch(`${app.origin}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question, ...(town ? { filters: { town } } : {}) }) });
      const { answerId, status } = (await asked.json()) as { answerId: string; status: string };
      if (rating === 'up' && status !== 'answered') throw new Error(`the 👍 question must be answered for this test, got ${status}: ${question}`);
      const res = await fetch(`${app.origin}/api/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answerId, rating, ...extra }) });
      if (res.status !== 201) throw new Error(`feedback: ${res.status}`);
    };
    await rate('临湖镇地区生产总值是多少', 'down', { reason: '答案不对' });
    await rate('临湖镇GDP多少', 'down', { reason: '答案不对', comment: '想知道2022年的数字' });
    await rate('梅李镇今年要建几个火箭发射场?', 'down', { reason: '没有回答我的问题' });
    await rate('牛塘镇下半年要完成多少套安置房的初始登记?', 'up', {}, '牛塘镇');
    browser = await launchBrowser(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('asks for the token once per tab, never in a URL, lists grouped questions and exports a CSV', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    const urls: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/401/.test(m.text())) problems.push(m.text());
    });
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${app.origin}/admin/insights`);

    // A wrong token is refused and asked for again.
    await page.getByLabel('管理口令（ADMIN_TOKEN）').fill('wrong-token-wrong-token-wrong');
    await page.getByRole('button', { name: '进入' }).click();
    await page.getByText('口令不正确或已失效，请重新输入。').waitFor();

    await page.getByLabel('管理口令（ADMIN_TOKEN）').fill(TOKEN);
    await page.getByRole('button', { name: '进入' }).click();
    await page.locator('.group').first().waitFor();
    const titles = await page.locator('.group h3').allTextContents();
    // The two wordings of the GDP question are one group of two, listed first.
    expect(titles[0]).toMatch(/^2临湖镇/);
    expect(titles.some((t) => t.includes('火箭发射场'))).toBe(true);
    expect(titles.some((t) => t.includes('安置房')), titles.join(' / ')).toBe(false);
    await expect(page.locator('.group').first().textContent()).resolves.toContain('想知道2022年的数字');

    // All ratings, the 👍 too.
    await page.getByRole('tab', { name: '全部评价' }).click();
    await page.locator('.group', { hasText: '安置房' }).waitFor();

    // Once per tab: a reload does not ask again.
    await page.reload();
    await page.locator('.group').first().waitFor();
    expect(await page.locator('#login').isVisible()).toBe(false);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 CSV（Excel）' }).click()]);
    const file = await download.path();
    const bytes = fs.readFileSync(file!);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.toString('utf8')).toContain('临湖镇GDP多少');

    for (const url of urls) expect(url).not.toContain(TOKEN);
    expect(page.url()).not.toContain(TOKEN);
    expect(problems).toEqual([]);

    // A new tab (a new session) asks again.
    const other = await (await browser.newContext()).newPage();
    await other.goto(`${app.origin}/admin/insights`);
    await other.getByLabel('管理口令（ADMIN_TOKEN）').waitFor();
    await other.context().close();
    await context.close();
  });
});
