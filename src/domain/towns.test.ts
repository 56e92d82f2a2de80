/**
 * Tests for the town rules: the one module agrees with the copies it replaced (kept below as the
 * reference, verbatim) on the corpus' towns, on the corpus' text and on every question of eval/,
 * and differs only where the copies disagreed with each other (stated in each test).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanText } from '../corpus/clean.js';
import { describeDocument, detectTown } from '../corpus/structure.js';
import type { ParsedDocument } from './types.js';
import { isPlaceStem, matchTown, namesTown, placeRuns, placeStem, TOWN_SUFFIXES, townAliases, townStem, townsNamed } from './towns.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// --- The copies as they were (annotate/question.ts, answer/grounding-checks.ts, corpus/structure.ts,
// --- server/suggestions.ts, towns-config.ts, feedback/answers.ts, web/widget.js, text/tokenize.ts).
const oldBare = (name: string) => name.replace(/(镇街道|街道|镇|乡)$/, '');
function oldAliasesOf(town: string): string[] {
  const stem = town.replace(/(镇街道|街道|镇|乡)$/, '');
  return [...new Set([town, town.replace(/街道$/, ''), stem])].filter((a) => a.length >= 2).sort((a, b) => b.length - a.length);
}
const oldNamesTown = (question: string, t: string) => question.includes(t) || question.includes(oldBare(t));
const oldMatchTown = (asked: string, towns: readonly string[]) => towns.find((t) => t === asked) ?? towns.find((t) => oldBare(t) === oldBare(asked));
const OLD_PLACE = /([\u4e00-\u9fff]{2,3}?)(镇街道|街道|镇|乡)/g;
const OLD_NOT_A_PLACE = /^(全|本|各|该|我|乡|城|小|大|新|集|古|重|建|市|县|区|的|在|和|与|及|个|为|里|上|那|这|哪|每|村|两|三|四|五|六|七|八|九|十|百|千|万|多|入|进|到|返|离|回)/;
const oldPlaceRuns = (text: string) =>
  [...text.matchAll(OLD_PLACE)].filter((m) => !OLD_NOT_A_PLACE.test(m[1]!) && !/[的了在和与是有么个]/.test(m[1]!)).map((m) => ({ name: m[1]! + m[2]!, stem: m[1]!, index: m.index }));
const OLD_NOT_A_TOWN = /^(全|本|各|该|我|乡|城|小|强|大|新|特色|集|古|名|重|建|市|县|区|的|在|和|与|及|个|为)/;
function oldDetectTown(text: string): string {
  const TOWN_SUFFIX = '(?:镇街道|街道|镇|乡)';
  const direct =
    text.match(new RegExp(`在([\\u4e00-\\u9fff]{2,4}?${TOWN_SUFFIX})第`)) ??
    text.match(new RegExp(`^([\\u4e00-\\u9fff]{2,4}?${TOWN_SUFFIX})(?:\\d{4}|[〇一二三四五六七八九]{4})年`, 'm'));
  if (direct) return direct[1]!;
  const counts = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(TOWN_SUFFIX, 'g'))) {
    for (const len of [2, 3]) {
      if (m.index < len) continue;
      const stem = text.slice(m.index - len, m.index);
      if (!/^[\u4e00-\u9fff]+$/.test(stem) || OLD_NOT_A_TOWN.test(stem)) continue;
      counts.set(stem + m[0], (counts.get(stem + m[0]) ?? 0) + 1);
    }
  }
  let best = '';
  let bestCount = 0;
  for (const [name, count] of counts) {
    const score = count * (name.length >= 4 ? 1.5 : 1);
    if (score > bestCount) [best, bestCount] = [name, score];
  }
  return bestCount >= 2 ? best : '';
}
// ---

let docs: ParsedDocument[] = [];
let towns: string[] = [];
/** Every question (and rewritten question, history question and answer) of eval/*.jsonl. */
let questions: string[] = [];
/** The corpus' sentences and lines. */
let sentences: string[] = [];

beforeAll(() => {
  const dir = path.join(ROOT, 'corpus');
  docs = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .map((file) => {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      return describeDocument({ file, format: 'txt', hash: '', text }, cleanText(text));
    });
  towns = docs.map((d) => d.meta.town);
  sentences = docs.flatMap((d) => d.text.split(/[。；;\n]/)).filter((s) => s.trim());
  const evalDir = path.join(ROOT, 'eval');
  for (const file of fs.readdirSync(evalDir).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(evalDir, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const item = JSON.parse(line) as { question: string; standalone?: string; history?: Array<{ question: string; answer: string }> };
      questions.push(item.question, ...(item.standalone ? [item.standalone] : []), ...(item.history ?? []).flatMap((h) => [h.question, h.answer]));
    }
  }
});

const CJK = fc.constantFrom(...'梅李牛塘淀山湖临天生港周庄全本城小强特色名新集古大市区县乡镇街道村里的了在和两三百'.split(''));
const name = fc.tuple(fc.array(CJK, { minLength: 0, maxLength: 4 }), fc.constantFrom('', ...TOWN_SUFFIXES)).map(([cs, suffix]) => cs.join('') + suffix);

describe('the corpus and its questions', () => {
  it('finds the five towns of the corpus, and finds them as before', () => {
    expect(towns.sort()).toEqual(['临湖镇', '天生港镇街道', '梅李镇', '淀山湖镇', '牛塘镇']);
    for (const d of docs) expect(detectTown(d.text)).toBe(oldDetectTown(d.text));
  });

  it('has eval questions to test on', () => {
    expect(questions.length).toBeGreaterThan(600);
    expect(sentences.length).toBeGreaterThan(500);
  });
});

describe('townStem and placeStem', () => {
  it('strip one administrative suffix, the longest first', () => {
    expect(townStem('梅李镇')).toBe('梅李');
    expect(townStem('天生港镇街道')).toBe('天生港');
    expect(townStem('梅李')).toBe('梅李');
    expect(placeStem('武进区')).toBe('武进');
    expect(placeStem('天生港镇街道')).toBe('天生港');
  });

  it('agree with the copies on every name', () => {
    fc.assert(fc.property(name, (n) => townStem(n) === oldBare(n) && placeStem(n) === n.replace(/(镇街道|街道|镇|乡|市|区|县)$/, '')));
  });
});

describe('townAliases', () => {
  it('gives each corpus town its names, longest first', () => {
    expect(townAliases('天生港镇街道')).toEqual(['天生港镇街道', '天生港镇', '天生港']);
    expect(townAliases('梅李镇')).toEqual(['梅李镇', '梅李']);
  });

  it('agrees with annotate/question.ts aliasesOf and grounding-checks townAliases on every name', () => {
    fc.assert(fc.property(name, (n) => JSON.stringify(townAliases(n)) === JSON.stringify(oldAliasesOf(n))));
  });
});

describe('namesTown and townsNamed', () => {
  it('agree with the widget/feedback copy (full name or stem) on every eval question and corpus town', () => {
    for (const q of questions) for (const t of towns) expect(namesTown(q, t), `${t} in ${q}`).toBe(oldNamesTown(q, t));
    expect(townsNamed('天生港的绿化', towns)).toEqual(['天生港镇街道']);
  });

  it('agree with the copy whenever the stem is a name (two characters or more)', () => {
    fc.assert(fc.property(name, fc.array(CJK, { maxLength: 8 }), (t, around) => townStem(t).length < 2 || namesTown(around.join('') + townStem(t), t) === oldNamesTown(around.join('') + townStem(t), t)));
  });

  it('differs where the copy read a one-character stem as a name (X镇 would be named by any X)', () => {
    expect(oldNamesTown('大力推进', '大镇')).toBe(true);
    expect(namesTown('大力推进', '大镇')).toBe(false);
  });
});

describe('matchTown', () => {
  it('agrees with the copies in server/suggestions.ts and towns-config.ts', () => {
    const asked = towns.flatMap((t) => [t, townStem(t), `${townStem(t)}街道`, `${townStem(t)}乡`, `${t}x`, '周庄镇', '']);
    for (const a of asked) expect(matchTown(a, towns), a).toBe(oldMatchTown(a, towns));
    fc.assert(fc.property(name, (a) => matchTown(a, towns) === oldMatchTown(a, towns)));
  });
});

describe('placeRuns', () => {
  it('finds place-shaped names and skips common nouns', () => {
    expect(placeRuns('周庄镇和全镇、城镇、特色小镇、强镇').map((r) => r.name)).toEqual(['周庄镇']);
    expect(placeRuns('，周庄镇看看')).toEqual([{ name: '周庄镇', stem: '周庄', index: 1 }]);
  });

  it('agrees with question.ts/grounding-checks.ts on every eval question and corpus sentence', () => {
    for (const t of [...questions, ...sentences]) expect(placeRuns(t), t).toEqual(oldPlaceRuns(t));
  });

  it('differs from them only where structure.ts knew a common noun they did not (强镇, 特色小镇, 名镇)', () => {
    fc.assert(
      fc.property(fc.array(CJK, { maxLength: 12 }), (cs) => {
        const t = cs.join('');
        const now = placeRuns(t);
        const before = oldPlaceRuns(t);
        const extra = before.filter((r) => !now.some((n) => n.index === r.index));
        return now.every((n) => before.some((r) => r.index === n.index && r.name === n.name)) && extra.every((r) => /^(强|特色|名)/.test(r.stem));
      }),
    );
  });

  it('reads stems as structure.ts did, plus the function words the question readers skipped', () => {
    fc.assert(fc.property(fc.array(CJK, { minLength: 2, maxLength: 3 }), (cs) => {
      const stem = cs.join('');
      const before = /^[\u4e00-\u9fff]+$/.test(stem) && !OLD_NOT_A_TOWN.test(stem) && !OLD_NOT_A_PLACE.test(stem) && !/[的了在和与是有么个]/.test(stem);
      return isPlaceStem(stem) === before;
    }));
  });
});
