/**
 * Chinese text renders with real glyphs, not boxes, in the browser the other browser suites and
 * the screenshots use (Debian's chromium; .ci/run installs fonts-noto-cjk beside it). Measured on
 * the staff page's own heading with the page's own font stack: every character is drawn on a
 * canvas and compared with what the browser draws for a code point no font has (the missing-glyph
 * box, or nothing). Boxes are all alike, so real glyphs must also all differ from each other. The
 * same check run in a chromium that sees no CJK font (fontconfig limited to DejaVu) must find
 * boxes: that is what keeps this test from passing on a machine without the font.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/server/app.js';
import { chromiumForTests, launchBrowser, listen, type Listening } from './harness.js';

const chromiumPath = chromiumForTests();
/** A Latin-only font that Debian's chromium package pulls in (fonts-dejavu-core), for the control. */
const LATIN_ONLY_FONTS = '/usr/share/fonts/truetype/dejavu';

let app: Listening;
let work: string;
beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'fonts-'));
  // The static pages need no index: the staff page and its stylesheet are all that is measured.
  app = await listen(createApp({ maxQuestionChars: 500, defaultTopK: 5 }));
});
afterAll(async () => {
  await app?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

interface Rendering {
  text: string;
  fontFamily: string;
  /** Per distinct Han character: a hash of its pixels, and whether any pixel was inked. */
  glyphs: Array<{ char: string; hash: string; inked: boolean }>;
  /** Hashes of code points no font has: what a missing glyph looks like in this browser. */
  missing: string[];
  /** Fonts the browser actually used for the heading's text (DevTools' platform fonts). */
  platformFonts: string[];
}

/** Draws the heading's Han characters with its computed font and reports how they came out. */
async function renderHeading(page: Page): Promise<Rendering> {
  await page.goto(`${app.origin}/`);
  await page.locator('h1').waitFor();
  await page.evaluate(() => document.fonts.ready);
  const drawn = await page.evaluate(() => {
    const heading = document.querySelector('h1')!;
    const style = getComputedStyle(heading);
    const text = heading.textContent ?? '';
    const canvas = document.createElement('canvas');
    canvas.width = 96;
    canvas.height = 96;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    const draw = (char: string): { hash: string; inked: boolean } => {
      ctx.clearRect(0, 0, 96, 96);
      ctx.font = `${style.fontStyle} ${style.fontWeight} 64px ${style.fontFamily}`;
      ctx.fillStyle = '#000';
      ctx.textBaseline = 'alphabetic';
      ctx.fillText(char, 8, 76);
      const alpha = ctx.getImageData(0, 0, 96, 96).data.filter((_, i) => i % 4 === 3);
      // FNV-1a over the alpha channel: equal drawings give equal hashes.
      let h = 0x811c9dc5;
      let inked = false;
      for (const a of alpha) {
        if (a > 0) inked = true;
        h = Math.imul(h ^ a, 0x01000193) >>> 0;
      }
      return { hash: h.toString(16), inked };
    };
    const han = [...new Set([...text].filter((c) => /\p{Script=Han}/u.test(c)))];
    return {
      text,
      fontFamily: style.fontFamily,
      glyphs: han.map((char) => ({ char, ...draw(char) })),
      // Unassigned code points: every font lacks them.
      missing: [...new Set(['\u0378', '\u0379', '\u{3FFFD}'].map((c) => draw(c).hash))],
    };
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: 'h1' });
  const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
  await cdp.detach();
  return { ...drawn, platformFonts: fonts.map((f) => f.familyName) };
}

/** Why the heading does not show as real Chinese glyphs, or undefined when it does. */
function boxesIn(r: Rendering): string | undefined {
  if (r.glyphs.length < 4) return `too few Han characters to judge in "${r.text}"`;
  const asMissing = r.glyphs.filter((g) => r.missing.includes(g.hash) || !g.inked).map((g) => g.char);
  if (asMissing.length > 0) return `${asMissing.join('')} drawn as missing glyphs (font stack ${r.fontFamily}; fonts used: ${r.platformFonts.join(', ')})`;
  const distinct = new Set(r.glyphs.map((g) => g.hash)).size;
  if (distinct < r.glyphs.length) return `${r.glyphs.length} characters but only ${distinct} different drawings: boxes (fonts used: ${r.platformFonts.join(', ')})`;
  return undefined;
}

async function withBrowser<T>(env: Record<string, string>, use: (browser: Browser) => Promise<T>): Promise<T> {
  // launchBrowser hands chromium this process' environment: set the variables for its launch only.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  let browser: Browser;
  try {
    browser = await launchBrowser(chromiumPath!);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  try {
    return await use(browser);
  } finally {
    await browser.close();
  }
}

describe.skipIf(!chromiumPath)('Chinese text in the browser', () => {
  it('renders the staff page heading with a CJK font: every character a distinct, inked glyph unlike a missing one', async () => {
    const rendering = await withBrowser({}, async (browser) => renderHeading(await browser.newPage()));
    expect(boxesIn(rendering), 'install a CJK font: apt-get install fonts-noto-cjk').toBeUndefined();
    // What DevTools says drew it: a font other than the Latin one the control falls back to.
    expect(rendering.platformFonts.length).toBeGreaterThan(0);
    expect(rendering.platformFonts.some((f) => !/^DejaVu/i.test(f)), rendering.platformFonts.join(', ')).toBe(true);
  });

  it.skipIf(!fs.existsSync(LATIN_ONLY_FONTS))('finds boxes when chromium sees no CJK font (the check can fail)', async () => {
    const conf = path.join(work, 'fonts.conf');
    fs.writeFileSync(
      conf,
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>${LATIN_ONLY_FONTS}</dir><cachedir>${path.join(work, 'fc-cache')}</cachedir></fontconfig>\n`,
    );
    const rendering = await withBrowser({ FONTCONFIG_FILE: conf }, async (browser) => renderHeading(await browser.newPage()));
    expect(rendering.platformFonts.every((f) => /^DejaVu/i.test(f)), rendering.platformFonts.join(', ')).toBe(true);
    expect(boxesIn(rendering)).toMatch(/drawn as missing glyphs|different drawings: boxes/);
  });
});
