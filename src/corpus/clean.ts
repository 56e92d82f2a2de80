/**
 * Cleaning: turns a loaded report into the text that is indexed and cited. Removes injected spam
 * (gambling advertising planted in government pages) and web-page furniture (navigation,
 * breadcrumbs, print/close links, counters, footers), normalises whitespace and full-width ASCII,
 * and keeps a map from every cleaned offset back to the loaded text.
 */
import type { CleanedText, OffsetMap, RemovedSpan } from '../domain/types.js';

/** Words that only gambling advertising uses; one of them anywhere marks a spam run. */
const STRONG_SPAM = ['竞猜网投', '网投', '博彩', '赌场', '娱乐城', '百家乐', '真人娱乐', '时时彩', '六合彩', '老虎机', '电子游艺', '体育直播', '体育投注'];
/** Words that are spam only next to a brand prefix (365体育彩票) or chained with other spam. */
// 平台, 官网, app and 开户 are left out: “12345平台” and “5G平台” are ordinary report text.
const WEAK_SPAM = ['体育彩票', '彩票', '竞猜', '棋牌', '投注'];
const SPAM_TERM = [...STRONG_SPAM, ...WEAK_SPAM].sort((a, b) => b.length - a.length).join('|');
/** A spam unit: an optional Latin/digit brand (365, bet365) and one or more spam terms. */
const SPAM_UNIT = `(?:[0-9A-Za-z]{2,12})?(?:${SPAM_TERM})+`;
/** Units chained by the separators link farms use (365体育直播_365体育彩票-竞猜网投). */
const SPAM_RUN = new RegExp(`${SPAM_UNIT}(?:[_\\-|·•—]+${SPAM_UNIT})*`, 'g');
const STRONG_RE = new RegExp(STRONG_SPAM.join('|'));

/** Finds injected spam runs. A run must be unambiguous: a strong word, a brand prefix or a chain. */
export function findSpam(text: string): Array<{ start: number; end: number }> {
  const spans: Array<{ start: number; end: number }> = [];
  for (const m of text.matchAll(SPAM_RUN)) {
    const run = m[0];
    const branded = /^[0-9A-Za-z]{2,12}[^0-9A-Za-z]/.test(run);
    const chained = /[_\-|·•—]/.test(run);
    if (STRONG_RE.test(run) || (branded && /[\u4e00-\u9fff]/.test(run)) || chained) {
      spans.push({ start: m.index, end: m.index + run.length });
    }
  }
  return spans;
}

/**
 * Spam spans, searched again in what remains after each removal until nothing new appears:
 * cutting 网投 out of 体育网投直播 leaves 体育直播, which is spam too. Spans are sorted and disjoint.
 */
function findSpamUntilStable(text: string): Array<{ start: number; end: number }> {
  let spans = findSpam(text);
  for (;;) {
    const kept: number[] = [];
    let rest = '';
    for (let i = 0; i < text.length; i++) {
      if (inSpans(spans, i)) continue;
      kept.push(i);
      rest += text[i];
    }
    const more = findSpam(rest).map((s) => ({ start: kept[s.start]!, end: kept[s.end - 1]! + 1 }));
    if (more.length === 0) return spans;
    // A new span bridges the removals it joined; merge so every span stays one contiguous source range.
    const merged: Array<{ start: number; end: number }> = [];
    for (const s of [...spans, ...more].sort((a, b) => a.start - b.start)) {
      const last = merged[merged.length - 1];
      if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else merged.push({ ...s });
    }
    spans = merged;
  }
}

/** Lines that are page furniture wherever they appear. */
const FURNITURE = [
  /打印此页|关闭窗口|【\s*打印\s*】|【\s*关闭\s*】|【\s*字体/,
  /扫一扫在手机|在手机打开当前页|分享到[::]?/,
  /访问量|浏览量|浏览次数|点击数[::]/,
  /当前(所在)?位置|^首页\s*[>›»]/,
  /主办单位|承办单位|版权所有|备案|ICP|网站标识码|网站支持IPV6|技术支持[::]/i,
  /欢迎您|用户登录|网站无障碍|适老版|网站地图|联系我们/,
  /^(相关附件|相关信息|相关链接|附件下载)[::]?$/,
  /^上一篇|^下一篇/,
  /^(索\s*引\s*号|生成日期|公开日期|发布日期|发布机构|文件编号|内容概述|主题分类|公开方式|公开范围|信息来源|来源)[::]/,
  /^时间[::]\s*\d{4}-\d{2}-\d{2}/,
  /^img$|^image$/i,
];

/** A breadcrumb: short segments joined by slashes or arrows. */
const BREADCRUMB = /^[^。,;]{0,20}(\s[/>›»]\s[^。,;]{1,20}){2,}$/;

/** Lines in the page header that still belong to the report: its title, date line, salutation. */
const HEADER_KEEP = /报告|总结|计划|打算|方案|要点|会议上|会议|代表[::]?$/;

/** A line that starts the report's body: a heading, a date line or a real paragraph. */
function isBodyStart(line: string): boolean {
  if (/^(——|—)/.test(line) && /\d{4}年/.test(line)) return true;
  if (/^[一二三四五六七八九十]+、|^[((][一二三四五六七八九十]+[))]/.test(line)) return true;
  if (/各位代表/.test(line)) return true;
  return line.length >= 50 && /[。,;]/.test(line);
}

/** Full-width ASCII (FF01-FF5E) and the ideographic space become their half-width forms, 1:1. */
export function toHalfWidth(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code >= 0xff01 && code <= 0xff5e) return String.fromCharCode(code - 0xfee0);
  if (code === 0x3000 || code === 0x00a0) return ' ';
  return ch;
}

/** Builds the cleaned text piece by piece while recording where each piece came from. */
class CleanTextBuilder {
  private parts: string[] = [];
  private length = 0;
  readonly map: OffsetMap = [];

  /** Appends loaded-text characters [start, end) transformed 1:1. */
  copy(source: string, start: number, end: number): void {
    if (end <= start) return;
    const last = this.map[this.map.length - 1];
    // Extend the current run when the source continues where it ended.
    if (!last || last[1] + (this.length - last[0]) !== start) this.map.push([this.length, start]);
    let piece = '';
    for (let i = start; i < end; i++) piece += toHalfWidth(source[i]!);
    this.parts.push(piece);
    this.length += piece.length;
  }

  /** Appends a separator that stands for the loaded text at `origin`. */
  insert(text: string, origin: number): void {
    this.map.push([this.length, origin]);
    this.parts.push(text);
    this.length += text.length;
  }

  get size(): number {
    return this.length;
  }

  toString(): string {
    return this.parts.join('');
  }
}

interface Line {
  start: number;
  end: number;
  /** The line's text with spam removed and whitespace trimmed, for classification. */
  visible: string;
}

function splitLines(text: string, spam: Array<{ start: number; end: number }>): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let visible = '';
    for (let i = start; i < end; i++) if (!inSpans(spam, i)) visible += toHalfWidth(text[i]!);
    lines.push({ start, end, visible: visible.replace(/\s+/g, ' ').trim() });
    start = end + 1;
  }
  return lines;
}

function inSpans(spans: Array<{ start: number; end: number }>, i: number): boolean {
  for (const s of spans) if (i >= s.start && i < s.end) return true;
  return false;
}

function isFurniture(line: string): boolean {
  // Furniture is short; a long line that mentions 备案 or 平台 is report text.
  if (line.length > 80) return false;
  return FURNITURE.some((re) => re.test(line)) || BREADCRUMB.test(line);
}

/**
 * Cleans a loaded report. Pure: the same input always gives the same output, and cleaning a
 * cleaned text changes nothing.
 */
export function cleanText(source: string): CleanedText {
  // Detect spam on the width-normalised text (same length, 1:1) so ３６５体育彩票 is caught as 365体育彩票 is.
  let normalised = '';
  for (let i = 0; i < source.length; i++) normalised += toHalfWidth(source[i]!);
  const spam = findSpamUntilStable(normalised);
  const removed: RemovedSpan[] = spam.map((s) => ({ ...s, reason: 'spam', text: source.slice(s.start, s.end) }));
  const lines = splitLines(source, spam);

  // Only lines that survive may bound the body: otherwise cleaning the output again would move the bounds.
  const bodyStart = lines.findIndex((l) => isBodyStart(l.visible) && !isFurniture(l.visible));
  let bodyEnd = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const v = lines[i]!.visible;
    if (v.length >= 50 && /[。!?;]$/.test(v) && !isFurniture(v)) {
      bodyEnd = i;
      break;
    }
  }

  const kept: Line[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const v = line.visible;
    if (v === '') return;
    const inHeader = bodyStart !== -1 && i < bodyStart;
    const inFooter = bodyEnd !== -1 && i > bodyEnd;
    const junk =
      isFurniture(v) ||
      // Header and footer lines are site chrome unless they name the report or its occasion.
      ((inHeader || inFooter) && !(HEADER_KEEP.test(v) && !/^[\d\s/-]+$/.test(v))) ||
      // Web pages repeat the title as page title and heading; keep it once.
      (inHeader && seen.has(v));
    if (junk) {
      removed.push({ start: line.start, end: line.end, reason: 'boilerplate', text: source.slice(line.start, line.end) });
      return;
    }
    seen.add(v);
    kept.push(line);
  });

  const out = new CleanTextBuilder();
  kept.forEach((line, k) => {
    if (k > 0) out.insert('\n', line.start);
    appendLine(out, source, line, spam);
  });
  removed.sort((a, b) => a.start - b.start);
  return { text: out.toString(), offsetMap: out.map, removed };
}

/** Copies one kept line: spam cut out, ends trimmed, inner whitespace runs shortened to one space. */
function appendLine(out: CleanTextBuilder, source: string, line: Line, spam: Array<{ start: number; end: number }>): void {
  let i = line.start;
  const isSpace = (ch: string) => /\s/.test(toHalfWidth(ch));
  let pendingSpace = -1;
  let wroteAny = false;
  let runStart = -1;
  const flush = (end: number) => {
    if (runStart !== -1) out.copy(source, runStart, end);
    runStart = -1;
  };
  for (; i < line.end; i++) {
    if (inSpans(spam, i)) {
      flush(i);
      continue;
    }
    const ch = source[i]!;
    if (isSpace(ch)) {
      flush(i);
      if (wroteAny && pendingSpace === -1) pendingSpace = i;
      continue;
    }
    if (pendingSpace !== -1) {
      out.insert(' ', pendingSpace);
      pendingSpace = -1;
    }
    if (runStart === -1) runStart = i;
    wroteAny = true;
  }
  flush(line.end);
}

/** Maps an offset in cleaned text to the loaded text it came from. */
export function toSourceOffset(map: OffsetMap, cleanOffset: number): number {
  let lo = 0;
  let hi = map.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]![0] <= cleanOffset) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const entry = map[best];
  return entry ? entry[1] + (cleanOffset - entry[0]) : cleanOffset;
}
