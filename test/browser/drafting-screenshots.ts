/**
 * Takes the drafting workspace's screenshots in docs/screenshots/ (linked from README.md):
 * search, similar sentences, the basket, the indicators, the document view's selection bar, the
 * search on a phone, and the first page of a real exported .docx (LibreOffice to PDF, then
 * pdftoppm: apt-get install libreoffice-writer-nogui poppler-utils). Uses INDEX_DIR's index
 * (default index/, built when missing) and Debian's chromium:
 *
 *   npx tsx test/browser/drafting-screenshots.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { openService } from '../../src/cli/runtime.js';
import { allChunkIds } from '../../src/retrieve/context.js';
import { createApp } from '../../src/server/app.js';
import type { Chunk } from '../../src/domain/types.js';
import { findChromium, launchBrowser, listen } from './harness.js';

const OUT = path.resolve('docs/screenshots');

async function main(): Promise<void> {
  const chromiumPath = findChromium();
  if (!chromiumPath) throw new Error('chromium not found: apt-get install chromium, or set CHROMIUM_PATH');
  const config = loadConfig();
  const service = await openService(config, pino({ level: 'warn' }));
  const app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK }));
  const browser = await launchBrowser(chromiumPath);
  fs.mkdirSync(OUT, { recursive: true });
  const shot = (name: string) => path.join(OUT, name);
  const chunks = (await service.index.snapshot.getChunks(await allChunkIds(service.index))).filter((c): c is Chunk => c !== undefined);
  const docs = new Map((await service.index.snapshot.getDocuments([...service.index.documents.keys()])).flatMap((d) => (d ? [[d.meta.docId, d] as const] : [])));
  const sentenceWith = (phrase: string, town: string) => {
    const chunk = chunks.find((c) => c.town === town && c.text.includes(phrase))!;
    const [start, end] = chunk.sentences.find(([s, e]) => docs.get(chunk.docId)!.text.slice(s, e).includes(phrase))!;
    return { chunk, start, end };
  };
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce', acceptDownloads: true });
    const page = await context.newPage();

    await page.goto(`${app.origin}/search?q=${encodeURIComponent('乡村振兴')}`);
    await page.locator('.town-group').first().waitFor();
    await page.screenshot({ path: shot('drafting-search.png') });

    // The staff page with the search in the chat's place.
    await page.goto(`${app.origin}/#search`);
    await page.locator('#search-panel #f-q').fill('安全生产');
    await page.locator('#search-panel #f-q').press('Enter');
    await page.locator('#search-panel .town-group').first().waitFor();
    await page.screenshot({ path: shot('drafting-staff-search.png') });

    const s = sentenceWith('特色田园乡村', '淀山湖镇');
    await page.goto(`${app.origin}/similar?${new URLSearchParams({ chunkId: s.chunk.id, start: String(s.start), end: String(s.end) })}`);
    await page.locator('.town-column').first().waitFor();
    await page.screenshot({ path: shot('drafting-similar.png') });

    // A basket as a drafter would fill it: a target, a wording from another town, a safety figure.
    const items = [sentenceWith('107亿元', '淀山湖镇'), sentenceWith('高标准农田1600亩', '临湖镇'), sentenceWith('营商环境', '梅李镇'), sentenceWith('6019家次', '牛塘镇')].map((x, i) => ({
      id: `shot-${i}`,
      chunkId: x.chunk.id,
      start: x.start,
      end: x.end,
      note: i === 0 ? '用作经济目标的对照' : '',
    }));
    await page.goto(`${app.origin}/basket`);
    await page.evaluate((list) => {
      localStorage.setItem('qa.basket.v1', JSON.stringify(list));
      localStorage.setItem('qa.basket.title', '2024年政府工作报告参考素材');
    }, items);
    await page.reload();
    await page.locator('.basket-item').nth(3).waitFor();
    await page.waitForFunction(() => !document.body.textContent?.includes('正在读取'));
    await page.screenshot({ path: shot('drafting-basket.png') });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '导出 Word（.docx）' }).click()]);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'draft-export-'));
    const docx = path.join(tmp, 'draft.docx');
    await download.saveAs(docx);

    await page.goto(`${app.origin}/indicators?indicator=${encodeURIComponent('地区生产总值')}`);
    await page.locator('table.indicators').waitFor();
    await page.waitForFunction(() => Boolean((window as any).Chart?.getChart(document.getElementById('chart'))));
    await page.screenshot({ path: shot('drafting-indicators.png'), fullPage: true });

    const doc = docs.get('linhu-2022-summary-2023-plan')!;
    const at = doc.text.indexOf('乡村振兴');
    const chunk = chunks.find((c) => c.docId === doc.meta.docId && c.start <= at && at < c.end)!;
    await page.goto(`${app.origin}/documents/${doc.meta.docId}?start=${chunk.start}&end=${chunk.end}`);
    await page.locator('mark.passage').first().waitFor();
    await page.evaluate(() => {
      const mark = document.querySelector('mark.passage')!;
      const text = Array.from(mark.childNodes).find((n) => n.nodeType === Node.TEXT_NODE)!;
      const range = document.createRange();
      range.setStart(text, 0);
      range.setEnd(text, Math.min(40, text.textContent!.length));
      document.getSelection()!.removeAllRanges();
      document.getSelection()!.addRange(range);
    });
    await page.locator('.selection-bar .what', { hasText: '所选' }).waitFor();
    await page.screenshot({ path: shot('drafting-document-selection.png') });
    await context.close();

    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
    const mobile = await phone.newPage();
    await mobile.goto(`${app.origin}/search?q=${encodeURIComponent('“优化营商环境”')}`);
    await mobile.locator('.town-group').first().waitFor();
    await mobile.screenshot({ path: shot('drafting-search-phone.png') });
    await phone.close();

    // What staff get: the first page of the exported Word file, as LibreOffice renders it.
    try {
      execFileSync('soffice', ['--headless', '--convert-to', 'pdf', '--outdir', tmp, docx], { stdio: 'ignore', timeout: 120_000 });
      execFileSync('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', path.join(tmp, 'draft.pdf'), path.join(OUT, 'drafting-export-docx')], { stdio: 'ignore' });
    } catch (err) {
      process.stderr.write(`docx page not rendered (${(err as Error).message}); apt-get install libreoffice-writer-nogui poppler-utils\n`);
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  } finally {
    await browser.close();
    await app.close();
  }
  process.stdout.write(`screenshots written to ${path.relative(process.cwd(), OUT)}/\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
