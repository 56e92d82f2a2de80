/**
 * Structure: finds a report's metadata (town, district, title, date, years covered) and its
 * heading tree, and gives every section a role: review (what was done), plan (what is promised)
 * or other. Works on cleaned text; the loaded text is consulted only for page metadata lines
 * (publication date, publishing office) that cleaning drops as furniture.
 */
import { z } from 'zod';
import type { CleanedText, DocumentMeta, LoadedFile, ParsedDocument, Role, Section } from '../domain/types.js';
import { parseYear } from '../domain/numbers.js';
import { isPlaceStem, TOWN_SUFFIX_PATTERN, townStem } from '../domain/towns.js';

/** A `<name>.meta.json` sidecar: fields that override what the text lets us derive. */
export const sidecarSchema = z
  .object({
    title: z.string().min(1),
    town: z.string().min(1),
    district: z.string(),
    date: z.string().regex(/^\d{4}(-\d{2}-\d{2})?$/),
    years: z.array(z.number().int().min(1949).max(2100)),
  })
  .partial()
  .strict();
export type Sidecar = z.infer<typeof sidecarSchema>;

/** Years named in a text: 2022年 and 二〇二三年 alike. */
export function yearsIn(text: string): number[] {
  const years = new Set<number>();
  for (const m of text.matchAll(/(?<!\d)(19\d{2}|20\d{2})(?=年)/g)) years.add(Number(m[1]));
  for (const m of text.matchAll(/([〇零一二三四五六七八九]{4})年/g)) years.add(parseYear(m[1]!)!);
  return [...years].filter((y) => y >= 1949 && y <= 2100).sort((a, b) => a - b);
}

const REVIEW_HEADING = /回顾|总结|完成情况|主要成效|工作成效|主要成绩/;
const PLAN_HEADING = /任务|计划|打算|目标|思路|安排|展望|部署/;
/** A part heading names a period: 2022年上半年工作回顾, 二〇二三年工作目标和任务. */
const PERIOD = /(19|20)\d{2}年|[〇零一二三四五六七八九]{4}年|上半年|下半年|今年|明年|过去一年|新的一年/;

/** The role a heading states by itself, if any. Review words win: 工作总结及计划 is a review title. */
export function roleOfHeading(heading: string): Role | undefined {
  if (heading.length > 40 || !PERIOD.test(heading)) return undefined;
  // A line that names both (2022年工作总结及2023年工作计划) is the document's title, not a part.
  if (REVIEW_HEADING.test(heading) && PLAN_HEADING.test(heading)) return undefined;
  if (REVIEW_HEADING.test(heading)) return 'review';
  if (PLAN_HEADING.test(heading)) return 'plan';
  return undefined;
}

const REVIEW_CUES = /一年来|过去的一年|以来|完成了|实现了|取得了|累计|同比(增长|下降)|获评|荣获|成功(创建|举办|入选)|共(计|完成)/g;
const PLAN_CUES = /将|计划|力争|确保|打算|目标是|要以|加快|持续|推进|下一步|本年度|做好以下/g;

/** Role of a section that no heading names, from the verbs it uses. */
export function roleOfContent(text: string): Role {
  if (text.length < 120) return 'other';
  const review = text.match(REVIEW_CUES)?.length ?? 0;
  const plan = text.match(PLAN_CUES)?.length ?? 0;
  if (review >= 2 && review > plan * 0.6) return 'review';
  if (plan >= 2 && plan > review) return 'plan';
  return 'other';
}

interface HeadingMatch {
  level: number;
  /** Length of the heading within the line (run-in headings end at their first full stop). */
  length: number;
}

const NUMBERED: Array<[RegExp, number]> = [
  [/^[一二三四五六七八九十]+、/, 1],
  [/^[((][一二三四五六七八九十]+[))]/, 2],
  [/^\d{1,2}[.、．](?!\d)/, 3],
  [/^[((]\d{1,2}[))]/, 4],
];

/** Recognises a heading at the start of a line. */
export function matchHeading(line: string): HeadingMatch | undefined {
  for (const [re, level] of NUMBERED) {
    if (re.test(line)) return { level, length: runInHeadingLength(line) };
  }
  // An unnumbered part heading stands alone on a short line: 2022年上半年工作回顾.
  if (line.length <= 30 && !/[。,;:!?]/.test(line) && roleOfHeading(line)) return { level: 0, length: line.length };
  return undefined;
}

/** A heading runs to its first full stop when a paragraph follows on the same line. */
function runInHeadingLength(line: string): number {
  const stop = line.search(/[。!?;]/);
  if (stop !== -1 && stop <= 60) return stop + 1;
  return line.length <= 60 ? line.length : 40;
}

interface RawHeading {
  start: number;
  length: number;
  level: number;
  text: string;
}

function findHeadings(text: string): RawHeading[] {
  const headings: RawHeading[] = [];
  let start = 0;
  for (const line of text.split('\n')) {
    const m = matchHeading(line);
    if (m) headings.push({ start, length: m.length, level: m.level, text: line.slice(0, m.length).replace(/[。!?;]$/, '') });
    start += line.length + 1;
  }
  return headings;
}

/** Most frequent year-like mention, used for sections whose heading names none. */
function dominantYear(text: string): number[] {
  const counts = new Map<number, number>();
  for (const y of text.match(/(?<!\d)(19|20)\d{2}(?=年)/g) ?? []) counts.set(Number(y), (counts.get(Number(y)) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  return best ? [best[0]] : [];
}

/** Builds the heading tree and assigns roles and years. */
export function parseSections(text: string, docId: string): Section[] {
  const raw = findHeadings(text);
  const sections: Section[] = [];
  // Text before the first heading (preamble, or a review that has no heading of its own).
  const firstStart = raw[0]?.start ?? text.length;
  if (text.slice(0, firstStart).trim().length > 0) {
    const body = text.slice(0, firstStart);
    const role = roleOfContent(body);
    sections.push({
      id: `${docId}#s0`,
      heading: '',
      path: [],
      level: 0,
      role,
      years: role === 'other' ? [] : dominantYear(body),
      start: 0,
      bodyStart: 0,
      end: firstStart,
    });
  }

  const stack: Section[] = [];
  raw.forEach((h, i) => {
    while (stack.length > 0 && stack[stack.length - 1]!.level >= h.level) stack.pop();
    const parent = stack[stack.length - 1];
    let end = text.length;
    for (let j = i + 1; j < raw.length; j++) {
      if (raw[j]!.level <= h.level) {
        end = raw[j]!.start;
        break;
      }
    }
    const ownRole = roleOfHeading(h.text);
    const previousTop = parent ? undefined : sections.filter((s) => s.path.length <= 1 && s.level <= h.level).at(-1);
    const role: Role = ownRole ?? parent?.role ?? previousTop?.role ?? roleOfContent(text.slice(h.start, end));
    const ownYears = yearsIn(h.text);
    const years = ownYears.length > 0 ? ownYears : parent?.years ?? previousTop?.years ?? dominantYear(text.slice(h.start, end));
    const section: Section = {
      id: `${docId}#s${sections.length}`,
      heading: h.text,
      path: [...(parent?.path ?? []), h.text],
      level: h.level,
      role,
      years,
      start: h.start,
      bodyStart: h.start + h.length,
      end,
    };
    sections.push(section);
    stack.push(section);
  });
  return sections;
}

const TOWN_SUFFIX = TOWN_SUFFIX_PATTERN;

/** The town a report is about: named in its title or speech line, else its most frequent place name. */
export function detectTown(text: string): string {
  const direct =
    text.match(new RegExp(`在([\\u4e00-\\u9fff]{2,4}?${TOWN_SUFFIX})第`)) ??
    text.match(new RegExp(`^([\\u4e00-\\u9fff]{2,4}?${TOWN_SUFFIX})(?:\\d{4}|[〇一二三四五六七八九]{4})年`, 'm'));
  if (direct) return direct[1]!;
  const counts = new Map<string, number>();
  // Count every 2- and 3-character stem before 镇/街道 and keep the longest well-supported one.
  const suffixRe = new RegExp(TOWN_SUFFIX, 'g');
  for (const m of text.matchAll(suffixRe)) {
    for (const len of [2, 3]) {
      if (m.index < len) continue;
      const stem = text.slice(m.index - len, m.index);
      // 全镇, 乡镇, 城镇 … are common nouns, not place names.
      if (!isPlaceStem(stem)) continue;
      const name = stem + m[0];
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  let best = '';
  let bestCount = 0;
  for (const [name, count] of counts) {
    // A three-character stem (牛塘镇) beats its own tail (塘镇) when it accounts for most uses.
    const score = count * (name.length >= 4 ? 1.5 : 1);
    if (score > bestCount) {
      best = name;
      bestCount = score;
    }
  }
  return bestCount >= 2 ? best : '';
}

/** The district or city the page says the town belongs to: 昆山市淀山湖, 苏州市吴中区 … 吴中区临湖镇. */
export function detectDistrict(source: string, town: string): string {
  if (!town) return '';
  const stem = townStem(town);
  const before = source.match(new RegExp(`((?:[\\u4e00-\\u9fff]{2,3}市)?(?:[\\u4e00-\\u9fff]{2,3}[区县])?)\\s*${stem}`));
  let district = before?.[1] ?? '';
  if (/^[\u4e00-\u9fff]{2,3}[区县]$/.test(district)) {
    const city = source.match(new RegExp(`([\\u4e00-\\u9fff]{2,3}市)${district}`));
    if (city) district = city[1] + district;
  }
  return district;
}

/** The day the report was delivered or published, when the text states one. */
export function detectDate(cleaned: string, source: string): string | undefined {
  const pad = (n: string) => n.padStart(2, '0');
  const spoken = cleaned.match(/(\d{4})年(\d{1,2})月(\d{1,2})日在/);
  if (spoken) return `${spoken[1]}-${pad(spoken[2]!)}-${pad(spoken[3]!)}`;
  const published = source.match(/(?:生成日期|成文日期|发布日期|公开日期)[::]\s*(\d{4})-(\d{1,2})-(\d{1,2})/);
  if (published) return `${published[1]}-${pad(published[2]!)}-${pad(published[3]!)}`;
  return undefined;
}

/** The report's own title line, if its first lines hold one. */
function detectTitle(cleaned: string): string | undefined {
  for (const line of cleaned.split('\n').slice(0, 6)) {
    // A title has no sentence punctuation outside its brackets (政府工作报告(2020年1月16日在…会议上)).
    const outsideBrackets = line.replace(/[((][^))]*[))]/g, '');
    if (line.length <= 60 && /报告|总结|计划|打算|方案|要点/.test(line) && !/^——/.test(line) && !/[,。;]/.test(outsideBrackets)) {
      return line.replace(/(如下)?[::]$/, '');
    }
  }
  return undefined;
}

/** The document id of a corpus file: its path without the extension, other characters as `-`. */
export function docIdOf(file: string): string {
  return file.replace(/\.[^.\/]+$/, '').replace(/[^\w\u4e00-\u9fff-]+/g, '-');
}

/** Turns a loaded, cleaned report into a parsed document: metadata plus sections. */
export function describeDocument(loaded: LoadedFile, cleaned: CleanedText, sidecar: Sidecar = {}): ParsedDocument {
  const docId = docIdOf(loaded.file);
  const sections = parseSections(cleaned.text, docId);
  const town = sidecar.town ?? detectTown(cleaned.text);
  const roleYears = (role: Role) => [...new Set(sections.filter((s) => s.role === role).flatMap((s) => s.years))].sort();
  const reviewYears = roleYears('review');
  const planYears = roleYears('plan');
  const years = sidecar.years ?? [...new Set([...reviewYears, ...planYears])].sort((a, b) => a - b);
  // Without a stated day, a report is dated by the year it reviews (written at its end), else the year it plans.
  const fallbackYear = reviewYears.at(-1) ?? planYears[0] ?? yearsIn(loaded.file)[0];
  const date = sidecar.date ?? detectDate(cleaned.text, loaded.text) ?? (fallbackYear ? String(fallbackYear) : '');
  const title = sidecar.title ?? detectTitle(cleaned.text) ?? `${town}${years.length ? years.join('-') + '年' : ''}工作报告`;
  const meta: DocumentMeta = {
    docId,
    file: loaded.file,
    format: loaded.format,
    hash: loaded.hash,
    title,
    town,
    district: sidecar.district ?? detectDistrict(loaded.text, town),
    date,
    years,
  };
  return { meta, text: cleaned.text, sections, offsetMap: cleaned.offsetMap, removed: cleaned.removed };
}
