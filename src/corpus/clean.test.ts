/** Tests for the cleaner: spam and page furniture never survive, report text does, offsets map back. */

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanedText, LoadedFile } from '../domain/types.js';
import { cleanText, findSpam, toSourceOffset } from './clean.js';
import { listCorpusFiles, loadFile } from './load.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../corpus');
const DIANSHANHU = 'dianshanhu-2020-work-report.txt';

/** The cleaner's width normalisation, written out independently: full-width ASCII and wide spaces become half-width. */
function halfWidth(text: string): string {
  return text.replace(/[\uff01-\uff5e\u3000\u00a0]/g, (ch) => {
    const code = ch.charCodeAt(0);
    return code >= 0xff01 ? String.fromCharCode(code - 0xfee0) : ' ';
  });
}

/** Asserts that every non-whitespace character of the cleaned text is the source character it maps to. */
function expectOffsetsPointBack(source: string, cleaned: CleanedText): void {
  for (let i = 0; i < cleaned.text.length; i++) {
    const offset = toSourceOffset(cleaned.offsetMap, i);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThan(source.length);
    const ch = cleaned.text[i]!;
    if (/\s/.test(ch)) continue;
    if (halfWidth(source[offset]!) !== ch) {
      expect.fail(`cleaned[${i}] = ${JSON.stringify(ch)} maps to source[${offset}] = ${JSON.stringify(source[offset])}`);
    }
  }
}

const reports = new Map<string, { loaded: LoadedFile; cleaned: CleanedText }>();

function report(file: string): { loaded: LoadedFile; cleaned: CleanedText } {
  const found = reports.get(file);
  if (!found) throw new Error(`test corpus has no ${file}`);
  return found;
}

beforeAll(async () => {
  for (const file of await listCorpusFiles(CORPUS)) {
    const loaded = await loadFile(CORPUS, file);
    reports.set(file, { loaded, cleaned: cleanText(loaded.text) });
  }
});

describe('cleanText on the shipped corpus', () => {
  it('cleans all five shipped reports into non-empty text', () => {
    expect([...reports.keys()]).toHaveLength(5);
    for (const { cleaned } of reports.values()) expect(cleaned.text.length).toBeGreaterThan(3000);
  });

  it('drops the gambling spam from the header of the 淀山湖镇 report', () => {
    const { loaded, cleaned } = report(DIANSHANHU);
    // The page really is polluted: the header line opens with a link-farm chain.
    expect(loaded.text.split('\n')[0]).toContain('365体育直播_365体育彩票-竞猜网投');
    const head = cleaned.text.slice(0, 300);
    for (const word of ['365', '体育直播', '体育彩票', '竞猜', '网投']) expect(head).not.toContain(word);
  });

  it('cuts the gambling spam out of body sentences and joins the sentence back together', () => {
    const { loaded, cleaned } = report(DIANSHANHU);
    expect(loaded.text).toContain('巩固365体育直播_365体育彩票-竞猜网投专项巡视反馈意见整改成效');
    expect(cleaned.text).toContain('巩固专项巡视反馈意见整改成效');
    expect(loaded.text).toContain('带来了365体育直播机遇');
    expect(cleaned.text).toContain('带来了机遇');
    expect(cleaned.text).toContain('争取尚美淀山湖元素融入相关规划计划');
  });

  it('leaves no gambling word anywhere in any report', () => {
    for (const [file, { cleaned }] of reports) {
      for (const word of ['365', '体育直播', '体育彩票', '竞猜', '网投']) {
        expect(cleaned.text.includes(word), `${file} still contains ${word}`).toBe(false);
      }
    }
  });

  it('records every spam cut as a removed span whose text is the source slice it names', () => {
    const { loaded, cleaned } = report(DIANSHANHU);
    const spam = cleaned.removed.filter((r) => r.reason === 'spam');
    expect(spam.length).toBeGreaterThanOrEqual(4);
    for (const span of spam) {
      expect(loaded.text.slice(span.start, span.end)).toBe(span.text);
      expect(span.text).toMatch(/^365/);
    }
    expect(cleaned.removed.map((r) => r.start)).toEqual([...cleaned.removed.map((r) => r.start)].sort((a, b) => a - b));
  });

  const furniture = ['打印此页', '关闭窗口', '扫一扫在手机打开当前页', '访问量', '浏览量', '主办单位', 'ICP', '您当前所在位置', '【字体', '相关附件'];

  it.each(furniture)('never keeps the page furniture %s in any report', (marker) => {
    // The marker is really on some page, so the assertion below is not vacuous.
    expect([...reports.values()].some(({ loaded }) => halfWidth(loaded.text).includes(marker))).toBe(true);
    for (const [file, { cleaned }] of reports) expect(cleaned.text.includes(marker), `${file} keeps ${marker}`).toBe(false);
  });

  it('never keeps breadcrumbs such as 信息公开 / 重点公开领域 or 首页 > 信息公开', () => {
    const breadcrumbs = [/信息公开\s*\/\s*重点公开领域/, /首页\s*>\s*信息公开/];
    for (const re of breadcrumbs) {
      expect([...reports.values()].some(({ loaded }) => re.test(halfWidth(loaded.text)))).toBe(true);
      for (const [file, { cleaned }] of reports) expect(re.test(cleaned.text), `${file} keeps ${re}`).toBe(false);
    }
  });

  it('keeps report text that mentions 体育 for sport rather than gambling', () => {
    expect(report('niutang-2022-midyear-report.txt').cleaned.text).toContain('提升“10分钟体育健身圈”内涵');
    expect(report(DIANSHANHU).cleaned.text).toContain('进一步丰富居民体育文化生活');
  });

  it('keeps every long paragraph of the corpus that mentions 平台', () => {
    let checked = 0;
    for (const [file, { loaded, cleaned }] of reports) {
      for (const line of halfWidth(loaded.text).split('\n')) {
        if (line.trim().length <= 80 || !line.includes('平台')) continue;
        // Compare sentence by sentence: the spam cut out of a paragraph is checked elsewhere.
        for (const sentence of line.split('。').filter((s) => s.includes('平台') && findSpam(s).length === 0)) {
          expect(cleaned.text.includes(sentence.trim()), `${file} lost: ${sentence}`).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('maps every non-whitespace cleaned character back to the same character in the source', () => {
    for (const { loaded, cleaned } of reports.values()) expectOffsetsPointBack(loaded.text, cleaned);
  });

  it('changes nothing when a cleaned report is cleaned again', () => {
    for (const { cleaned } of reports.values()) expect(cleanText(cleaned.text).text).toBe(cleaned.text);
  });
});

describe('cleanText on small pages', () => {
  const paragraph =
    '严格落实建设项目备案制度,依托政务服务平台推进企业投资项目网上备案,全年完成备案项目126个,审批时限压缩至3个工作日以内,企业满意度持续提升,营商环境不断优化。';

  it('keeps a long paragraph that mentions 备案 and 平台 but drops the 备案 line of the footer', () => {
    const page = ['首页 > 信息公开 > 政府信息公开目录', '某镇2023年工作总结', paragraph, '打印此页 关闭窗口', '备案:苏ICP备10060399号'].join('\n');
    const { text } = cleanText(page);
    expect(paragraph.length).toBeGreaterThan(80);
    expect(text).toBe(['某镇2023年工作总结', paragraph].join('\n'));
  });

  it('normalises full-width ASCII and wide spaces to half-width, one character for one', () => {
    const source = `${paragraph}\n全年完成ＧＤＰ１２０亿元,同比增长５％。\n${paragraph}`;
    const cleaned = cleanText(source);
    expect(cleaned.text.split('\n')[1]).toBe('全年完成GDP120亿元,同比增长5%。');
    expect(cleaned.text.length).toBe(source.length);
    expectOffsetsPointBack(source, cleaned);
  });

  it('shortens runs of spaces inside a line to one space and trims line ends', () => {
    const { text } = cleanText(`  ${paragraph.slice(0, 30)}\u3000\u3000  ${paragraph.slice(30)}  `);
    expect(text).toBe(`${paragraph.slice(0, 30)} ${paragraph.slice(30)}`);
  });

  it('removes spam whose brand is written in full-width digits, as it removes the half-width one', () => {
    // Regression: spam was once searched before width normalisation, so ３６５体育彩票 survived as 365体育彩票.
    const { text } = cleanText(`${paragraph}\n推进３６５体育彩票文体融合发展,丰富群众生活。\n${paragraph}`);
    expect(text).not.toMatch(/365|彩票/);
    expect(text).toContain('推进文体融合发展');
  });

  it('removes spam that cutting other spam out joins together', () => {
    // Regression: cutting 网投 out of 体育网投直播 used to leave 体育直播 for a second cleaning to find.
    const { text } = cleanText(`${paragraph}\n开展体育网投直播活动。\n${paragraph}`);
    expect(text).toContain('开展活动。');
    expect(cleanText(text).text).toBe(text);
  });

  it('does not flag 体育彩票 or 平台 standing alone in a sentence as spam', () => {
    expect(findSpam('依法规范体育彩票销售网点,搭建村民议事平台。')).toEqual([]);
    const chain = '365体育直播_365体育彩票-竞猜网投';
    expect(findSpam(`巩固${chain}专项`)).toEqual([{ start: 2, end: 2 + chain.length }]);
    expect(findSpam('bet365彩票')).toHaveLength(1);
  });

  it('gives the same text when cleaned twice even when furniture is the longest line of the page', () => {
    // Regression: a furniture line used to be allowed to mark where the body starts or ends.
    const furnitureLine = `备案${paragraph.slice(0, 60)}。`;
    for (const page of [
      [furnitureLine, '短行', paragraph].join('\n'),
      [paragraph, '短行', furnitureLine].join('\n'),
    ]) {
      const once = cleanText(page).text;
      expect(cleanText(once).text).toBe(once);
    }
  });
});

describe('cleanText properties', () => {
  const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
  const paragraph = fc
    .array(fc.oneof({ weight: 8, arbitrary: char(0x4e00, 0x9fa5) }, { weight: 1, arbitrary: fc.constantFrom(',', '、', '体育', '平台', '备案') }), {
      minLength: 45,
      maxLength: 90,
    })
    .map((cs) => `${cs.join('')}。`);
  const piece = fc.oneof(
    { weight: 8, arbitrary: char(0x4e00, 0x9fa5) },
    { weight: 3, arbitrary: fc.constantFrom(' ', '  ', '\t', '\u3000', '\u00a0', '\n', '\n\n', '\r\n') },
    { weight: 3, arbitrary: fc.constantFrom('。', ',', ',', '、', ';', ':', '!', '?', '“', '”', '——', '_', '-', '/', ' > ', '|', '·') },
    { weight: 2, arbitrary: char(0xff01, 0xff5e) },
    { weight: 1, arbitrary: char(0x20, 0x7e) },
    // Spam words and fragments: brands (half- and full-width), terms, and pieces that join into terms.
    { weight: 2, arbitrary: fc.constantFrom('365', '３６５', 'bet', 'ＢＥＴ', '体育', '直播', '体育直播', '体育彩票', '竞猜网投', '网投', '彩票', '平台', '官网', 'APP', '_', '-') },
    { weight: 1, arbitrary: fc.constantFrom('打印此页', '关闭窗口', '访问量:', '备案', '首页 > ', '相关附件:', '各位代表:', '一、', '(一)', '2020年', '工作报告', '计划') },
    { weight: 1, arbitrary: paragraph },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  );
  const page = fc.array(piece, { maxLength: 160 }).map((pieces) => pieces.join(''));

  it('never throws, whatever the page', () => {
    fc.assert(
      fc.property(page, (source) => {
        cleanText(source);
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent: cleaning a cleaned text changes nothing', () => {
    fc.assert(
      fc.property(page, (source) => {
        const once = cleanText(source).text;
        expect(cleanText(once).text).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('maps every cleaned offset into the source, onto the same character modulo width', () => {
    fc.assert(
      fc.property(page, (source) => {
        expectOffsetsPointBack(source, cleanText(source));
      }),
      { numRuns: 300 },
    );
  });

  it('never leaves a strong gambling word in the cleaned text', () => {
    fc.assert(
      fc.property(page, (source) => {
        expect(cleanText(source).text).not.toMatch(/网投|体育直播|竞猜网投/);
      }),
      { numRuns: 300 },
    );
  });
});
