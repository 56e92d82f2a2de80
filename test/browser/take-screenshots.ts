/**
 * Takes the screenshots in docs/screenshots/ (linked from README.md): the widget closed and open
 * with an answer on a town website, the widget on a phone, the staff page and the document view.
 * Uses the index of `npm start` (built when missing) and Debian's chromium:
 *
 *   npx tsx test/browser/take-screenshots.ts
 *
 * Chinese text needs a CJK font in the system (Debian: apt-get install fonts-noto-cjk).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { openService } from '../../src/cli/runtime.js';
import { createApp } from '../../src/server/app.js';
import { findChromium, launchBrowser, listen, serveHostSite } from './harness.js';
import { ask, openWidget } from './widget-driver.js';

const OUT = path.resolve('docs/screenshots');

async function main(): Promise<void> {
  const chromiumPath = findChromium();
  if (!chromiumPath) throw new Error('chromium not found: apt-get install chromium, or set CHROMIUM_PATH');
  const config = loadConfig();
  const service = await openService(config, pino({ level: 'warn' }));
  const site = await serveHostSite({ stylesheet: 'plain' });
  const app = await listen(createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, allowedOrigins: [site.origin] }));
  site.setApp(app.origin);
  const browser = await launchBrowser(chromiumPath);
  fs.mkdirSync(OUT, { recursive: true });
  const shot = (name: string) => path.join(OUT, name);
  try {
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    const page = await desktop.newPage();
    await page.goto(site.origin);
    await page.locator('town-qa .launcher').waitFor();
    await page.screenshot({ path: shot('widget-closed.png') });

    await openWidget(page);
    await page.locator('town-qa .sugg button').first().waitFor();
    await page.screenshot({ path: shot('widget-open-suggestions.png') });
    const bot = await ask(page, '梅李镇2023年教育有什么打算?');
    await bot.locator('a.marker').first().click();
    await page.evaluate(() => {
      const log = document.querySelector('town-qa')!.shadowRoot!.querySelector('.log')!;
      log.scrollTop = 0;
    });
    await page.screenshot({ path: shot('widget-answer.png') });

    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, reducedMotion: 'reduce' });
    const mobile = await phone.newPage();
    await mobile.goto(site.origin);
    await mobile.locator('town-qa .launcher').tap();
    const mobileBot = await ask(mobile, '梅李镇2023年就业有什么打算?');
    await mobileBot.locator('a.marker').first().tap();
    await mobile.screenshot({ path: shot('widget-phone.png') });

    const staff = await desktop.newPage();
    await staff.goto(app.origin);
    await staff.waitForFunction(() => (document.querySelector('town-qa')?.shadowRoot?.querySelectorAll('select option').length ?? 0) > 4);
    const staffBot = await ask(staff, '牛塘镇2022年上半年申报了多少家国家高新技术企业?');
    await staffBot.locator('a.marker').first().click();
    await staff.evaluate(() => {
      document.querySelector('town-qa')!.shadowRoot!.querySelector('.log')!.scrollTop = 0;
    });
    await staff.screenshot({ path: shot('staff-page.png') });

    const [doc] = await Promise.all([desktop.waitForEvent('page'), staffBot.getByRole('link', { name: /在原文中查看/ }).first().click()]);
    await doc.setViewportSize({ width: 1280, height: 800 });
    await doc.locator('mark.quote').first().waitFor();
    await doc.waitForTimeout(300);
    await doc.screenshot({ path: shot('document-view.png') });
  } finally {
    await browser.close();
    await app.close();
    await site.close();
  }
  for (const f of fs.readdirSync(OUT)) process.stdout.write(`${path.join('docs/screenshots', f)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
