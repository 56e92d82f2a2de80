/** Tests for structure: document metadata, the heading tree and each section's role and years. */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CleanedText, LoadedFile, ParsedDocument, Role, Section } from '../domain/types.js';
import { cleanText } from './clean.js';
import { listCorpusFiles, loadFile } from './load.js';
import { describeDocument, matchHeading, parseSections, roleOfHeading, sidecarSchema, yearsIn, type Sidecar } from './structure.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../corpus');

function sidecarPath(file: string): string {
  return path.join(CORPUS, file.replace(/\.[^./]+$/, '') + '.meta.json');
}

function readSidecar(file: string): Sidecar | undefined {
  const p = sidecarPath(file);
  return fs.existsSync(p) ? sidecarSchema.parse(JSON.parse(fs.readFileSync(p, 'utf8'))) : undefined;
}

interface Report {
  loaded: LoadedFile;
  cleaned: CleanedText;
  doc: ParsedDocument;
}

const reports = new Map<string, Report>();

function report(file: string): Report {
  const found = reports.get(file);
  if (!found) throw new Error(`test corpus has no ${file}`);
  return found;
}

function section(file: string, heading: string): Section {
  const found = report(file).doc.sections.find((s) => s.heading === heading);
  if (!found) throw new Error(`${file} has no section headed ${heading}`);
  return found;
}

/** Years per role over a document's sections, as a plain object for comparison. */
function yearsByRole(doc: ParsedDocument): Partial<Record<Role, number[]>> {
  const out: Partial<Record<Role, number[]>> = {};
  for (const s of doc.sections) {
    if (s.role === 'other') continue;
    out[s.role] = [...new Set([...(out[s.role] ?? []), ...s.years])].sort((a, b) => a - b);
  }
  return out;
}

beforeAll(async () => {
  for (const file of await listCorpusFiles(CORPUS)) {
    const loaded = await loadFile(CORPUS, file);
    const cleaned = cleanText(loaded.text);
    reports.set(file, { loaded, cleaned, doc: describeDocument(loaded, cleaned, readSidecar(file)) });
  }
});

describe('describeDocument on the shipped corpus', () => {
  const table: Array<{ file: string; town: string; district: string; date: string; roles: Partial<Record<Role, number[]>>; years: number[] }> = [
    { file: 'meili-2023-reform-plan.txt', town: '梅李镇', district: '常熟市', date: '2023', roles: { plan: [2023] }, years: [2023] },
    { file: 'niutang-2022-midyear-report.txt', town: '牛塘镇', district: '常州市武进区', date: '2022-07-14', roles: { review: [2022], plan: [2022] }, years: [2022] },
    { file: 'dianshanhu-2020-work-report.txt', town: '淀山湖镇', district: '昆山市', date: '2020-01-16', roles: { review: [2019], plan: [2020] }, years: [2019, 2020] },
    { file: 'linhu-2022-summary-2023-plan.txt', town: '临湖镇', district: '苏州市吴中区', date: '2023-01-17', roles: { review: [2022], plan: [2023] }, years: [2022, 2023] },
    { file: 'tianshenggang-2022-summary-2023-plan.txt', town: '天生港镇街道', district: '南通市崇川区', date: '2022', roles: { review: [2022], plan: [2023] }, years: [2022, 2023] },
  ];

  it('describes exactly the five reports of the table', () => {
    expect([...reports.keys()].sort()).toEqual(table.map((row) => row.file).sort());
  });

  it.each(table)('gives $file the town $town, district $district and date $date', ({ file, town, district, date }) => {
    const { meta } = report(file).doc;
    expect({ town: meta.town, district: meta.district, date: meta.date }).toEqual({ town, district, date });
    expect(meta.docId).toBe(file.replace(/\.txt$/, ''));
  });

  it.each(table)('finds in $file the roles and years $roles', ({ file, roles, years }) => {
    const { doc } = report(file);
    expect(yearsByRole(doc)).toEqual(roles);
    expect(doc.meta.years).toEqual(years);
  });

  it('gives every section of the 梅李镇 plan the role plan', () => {
    const { sections } = report('meili-2023-reform-plan.txt').doc;
    expect(sections.length).toBeGreaterThan(10);
    for (const s of sections) expect(s.role, s.heading).toBe('plan');
  });

  it('splits the 牛塘镇 mid-year report into a reviewed and a planned half of 2022', () => {
    const file = 'niutang-2022-midyear-report.txt';
    const parts = report(file).doc.sections.filter((s) => s.level === 0 && s.heading !== '');
    expect(parts.map((s) => [s.heading, s.role, s.years])).toEqual([
      ['2022年上半年工作回顾', 'review', [2022]],
      ['2022年下半年主要工作任务', 'plan', [2022]],
    ]);
    expect(section(file, '一、负压前行,疫情防控筑牢内外屏障')).toMatchObject({ role: 'review', path: ['2022年上半年工作回顾', '一、负压前行,疫情防控筑牢内外屏障'] });
    expect(section(file, '一、抢先布局,加速推动产业高质量发展')).toMatchObject({ role: 'plan', path: ['2022年下半年主要工作任务', '一、抢先布局,加速推动产业高质量发展'] });
  });

  it('reads the 淀山湖镇 review of 2019 and plan for 2020 from its numbered parts', () => {
    const file = 'dianshanhu-2020-work-report.txt';
    expect(section(file, '一、2019年工作回顾')).toMatchObject({ level: 1, role: 'review', years: [2019] });
    expect(section(file, '二、2020年主要任务')).toMatchObject({ level: 1, role: 'plan', years: [2020] });
    expect(section(file, '(二)加快推动经济转型升级,全力推进产业转型现代化')).toMatchObject({
      level: 2,
      role: 'plan',
      years: [2020],
      path: ['二、2020年主要任务', '(二)加快推动经济转型升级,全力推进产业转型现代化'],
    });
    expect(section(file, '(一)聚焦转型发展,经济发展保持平稳增长')).toMatchObject({ role: 'review', years: [2019], path: ['一、2019年工作回顾', '(一)聚焦转型发展,经济发展保持平稳增长'] });
  });

  it('treats the unheaded text before 临湖镇 二〇二三年工作目标和任务 as the review of 2022', () => {
    const file = 'linhu-2022-summary-2023-plan.txt';
    const { sections } = report(file).doc;
    const plan = section(file, '二〇二三年工作目标和任务');
    expect(plan).toMatchObject({ level: 0, role: 'plan', years: [2023] });
    const before = sections.filter((s) => s.start < plan.start);
    expect(before).toHaveLength(1);
    expect(before[0]).toMatchObject({ heading: '', role: 'review', years: [2022] });
    for (const s of sections.filter((x) => x.start >= plan.start)) {
      expect(s).toMatchObject({ role: 'plan', years: [2023] });
      expect(s.path[0]).toBe('二〇二三年工作目标和任务');
    }
  });

  it('reads the 天生港镇街道 review of 2022 and plan for 2023 from its numbered parts', () => {
    const file = 'tianshenggang-2022-summary-2023-plan.txt';
    expect(section(file, '一、2022年重点工作总结')).toMatchObject({ role: 'review', years: [2022] });
    expect(section(file, '二、2023年工作计划')).toMatchObject({ role: 'plan', years: [2023] });
  });

  it('gives every subsection the role of the part that holds it', () => {
    for (const { doc } of reports.values()) {
      for (const s of doc.sections.filter((x) => x.path.length >= 2)) {
        const parent = doc.sections.find((p) => p.path.length === s.path.length - 1 && p.path.every((h, i) => h === s.path[i]));
        expect(parent, s.path.join(' > ')).toBeDefined();
        if (parent) expect(s.role, s.path.join(' > ')).toBe(parent.role);
      }
    }
  });

  it('titles the 临湖镇 report with the title line its page states', () => {
    expect(report('linhu-2022-summary-2023-plan.txt').doc.meta.title).toBe('临湖镇2022年工作总结及2023年工作计划');
  });

  it('takes the title from a sidecar when the text does not state one', () => {
    expect(report('meili-2023-reform-plan.txt').doc.meta.title).toBe('梅李镇2023年深化经济发达镇改革工作计划');
    expect(report('niutang-2022-midyear-report.txt').doc.meta.title).toBe('牛塘镇人民政府工作报告');
  });

  it.each([
    { file: 'dianshanhu-2020-work-report.txt', town: '淀山湖镇', district: '昆山市', date: '2020-01-16', title: /^政府工作报告\(2020年1月16日在淀山湖镇第十九届人民代表大会第七次会议上\)$/ },
    { file: 'linhu-2022-summary-2023-plan.txt', town: '临湖镇', district: '苏州市吴中区', date: '2023-01-17', title: /^临湖镇2022年工作总结及2023年工作计划$/ },
  ])('derives the town, district, date and title of $file from its text alone', ({ file, town, district, date, title }) => {
    expect(fs.existsSync(sidecarPath(file))).toBe(false);
    const { loaded, cleaned } = report(file);
    const { meta } = describeDocument(loaded, cleaned);
    expect({ town: meta.town, district: meta.district, date: meta.date }).toEqual({ town, district, date });
    expect(meta.title).toMatch(title);
  });

  it('derives the town of every report from its text, sidecar or not', () => {
    for (const { loaded, cleaned, doc } of reports.values()) expect(describeDocument(loaded, cleaned).meta.town).toBe(doc.meta.town);
  });

  it('starts each section at its heading and keeps its offsets inside the text', () => {
    for (const { doc } of reports.values()) {
      for (const s of doc.sections) {
        expect(0 <= s.start && s.start <= s.bodyStart && s.bodyStart <= s.end && s.end <= doc.text.length).toBe(true);
        expect(doc.text.slice(s.start, s.start + s.heading.length)).toBe(s.heading);
        expect(s.path.at(-1) ?? '').toBe(s.heading);
      }
    }
  });
});

describe('yearsIn', () => {
  it('reads years written in Chinese numerals (二〇二三年 is 2023)', () => {
    expect(yearsIn('二〇二三年工作目标和任务')).toEqual([2023]);
  });

  it('reads every year named, ascending and once each', () => {
    expect(yearsIn('2023年计划,2022年总结,2022年回顾')).toEqual([2022, 2023]);
  });

  it('ignores digits that are part of a longer number or out of range', () => {
    expect(yearsIn('12022年')).toEqual([]);
    expect(yearsIn('1800年的运河')).toEqual([]);
    expect(yearsIn('2022届毕业生')).toEqual([]);
  });
});

describe('roleOfHeading', () => {
  it.each([
    ['2022年上半年工作回顾', 'review'],
    ['一、2019年工作回顾', 'review'],
    ['一、2022年重点工作总结', 'review'],
    ['2022年下半年主要工作任务', 'plan'],
    ['二、2020年主要任务', 'plan'],
    ['二〇二三年工作目标和任务', 'plan'],
    ['二、2023年工作计划', 'plan'],
  ] as const)('gives %s the role %s', (heading, role) => {
    expect(roleOfHeading(heading)).toBe(role);
  });

  it('leaves a title that names both a review and a plan without a role', () => {
    expect(roleOfHeading('临湖镇2022年工作总结及2023年工作计划')).toBeUndefined();
  });

  it('leaves a heading that names no period without a role', () => {
    expect(roleOfHeading('三、加强政府自身建设,为高质量发展提供坚实保障')).toBeUndefined();
  });

  it('leaves a long sentence without a role even when it names a year and a task', () => {
    expect(roleOfHeading('2023年是全面贯彻党的二十大精神的开局之年,也是梅李镇深化经济发达镇改革的关键之年,主要任务如下')).toBeUndefined();
  });
});

describe('matchHeading', () => {
  it('ends a run-in heading at its first 。', () => {
    const line = '一、负压前行,疫情防控筑牢内外屏障。指挥动员迅速有力。面对来势凶猛的新冠肺炎疫情,全镇迅速落实应急响应。';
    const match = matchHeading(line);
    expect(match?.level).toBe(1);
    expect(line.slice(0, match?.length)).toBe('一、负压前行,疫情防控筑牢内外屏障。');
  });

  it.each([
    ['一、2019年工作回顾', 1],
    ['(二)加快推动经济转型升级,全力推进产业转型现代化', 2],
    ['1.聚焦思想引领,持续抓好理论武装。分层分类抓好党的二十大精神教育培训。', 3],
    ['(1)完善机制', 4],
    ['2022年上半年工作回顾', 0],
  ] as const)('recognises %s as a heading of level %i', (line, level) => {
    expect(matchHeading(line)?.level).toBe(level);
  });

  it.each(['2.5亿元用于基础设施', '各位代表:', '2022年是党的二十大召开之年,也是新一届政府履职的开局之年。', '现在,我代表镇人民政府向大会报告政府工作。'])(
    'does not take %s for a heading',
    (line) => {
      expect(matchHeading(line)).toBeUndefined();
    },
  );

  it('gives a run-in heading its text without the 。 and its body from the next sentence on', () => {
    const text = '一、负压前行,疫情防控筑牢内外屏障。指挥动员迅速有力。\n二、克难求进,经济发展保持稳健态势。经济运行承压回升。';
    const [first, second] = parseSections(text, 'd');
    expect(first).toMatchObject({ heading: '一、负压前行,疫情防控筑牢内外屏障', start: 0, bodyStart: 18 });
    expect(text.slice(first!.bodyStart, first!.end)).toBe('指挥动员迅速有力。\n');
    expect(second?.path).toEqual(['二、克难求进,经济发展保持稳健态势']);
  });
});

describe('parseSections properties', () => {
  const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c));
  const piece = fc.oneof(
    { weight: 6, arbitrary: cjk },
    { weight: 2, arbitrary: fc.constantFrom('。', ',', ';', ':', '!', '?', '、', ' ', '\n', '\n\n') },
    { weight: 2, arbitrary: fc.constantFrom('\n一、', '\n二、', '\n(一)', '\n(二)', '\n1.', '\n2、', '\n(1)', '\n2022年上半年工作回顾\n', '\n二〇二三年工作目标和任务\n', '\n2023年工作计划\n') },
    { weight: 1, arbitrary: fc.constantFrom('2022年', '二〇二三年', '回顾', '计划', '任务', '完成了', '力争') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 4 }) },
  );
  const text = fc.array(piece, { maxLength: 300 }).map((pieces) => pieces.join(''));

  it('never throws and keeps every section inside the text with start <= bodyStart <= end', () => {
    fc.assert(
      fc.property(text, (t) => {
        const sections = parseSections(t, 'doc');
        for (const s of sections) {
          expect(0 <= s.start && s.start <= s.bodyStart && s.bodyStart <= s.end && s.end <= t.length, JSON.stringify(s)).toBe(true);
          expect(s.path.at(-1) ?? '').toBe(s.heading);
        }
        // Sections come in text order, each within the body of its parent.
        sections.forEach((s, i) => {
          if (i > 0) expect(s.start).toBeGreaterThanOrEqual(sections[i - 1]!.start);
          if (s.path.length < 2) return;
          const parent = sections.slice(0, i).findLast((p) => p.path.length === s.path.length - 1 && p.path.every((h, k) => h === s.path[k]));
          expect(parent).toBeDefined();
          expect(parent!.level).toBeLessThan(s.level);
          expect(s.start >= parent!.bodyStart && s.end <= parent!.end).toBe(true);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('describes any text without throwing', () => {
    fc.assert(
      fc.property(text, (t) => {
        const loaded: LoadedFile = { file: 'random-2022.txt', format: 'txt', hash: 'x', text: t };
        const doc = describeDocument(loaded, cleanText(t));
        expect(doc.meta.docId).toBe('random-2022');
        expect([...doc.meta.years]).toEqual([...doc.meta.years].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});
