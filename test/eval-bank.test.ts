/**
 * The labelled question bank (eval/bank.jsonl, eval/bank-dialogues.jsonl, described in eval/README.md)
 * checked against the real corpus: every evidence and "near" string is verbatim in one chunk of its
 * report after the cleaning the index applies and the normalisation the eval applies, every key is in
 * its evidence or answer, labels are complete and consistent, and the composition minimums hold.
 * A wrong label poisons the calibration fitted on this bank, so each rule names the offending item.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitIntoChunks } from '../src/corpus/chunk.js';
import { cleanText } from '../src/corpus/clean.js';
import { listCorpusFiles, loadFile } from '../src/corpus/load.js';
import { describeDocument, sidecarSchema } from '../src/corpus/structure.js';
import { normalize } from '../src/evaluate/metrics.js';

const ROOT = path.resolve('.');
const CORPUS = path.join(ROOT, 'corpus');
const BANK = path.join(ROOT, 'eval/bank.jsonl');
const DIALOGUES = path.join(ROOT, 'eval/bank-dialogues.jsonl');
const DEV = path.join(ROOT, 'eval/dev.jsonl');

const USERS = ['official', 'resident', 'staff'];
const TRAPS = ['other-town', 'other-year', 'plan-only', 'result-only', 'no-figure', 'not-mentioned'] as const;
const ANSWERABLE_KINDS = ['fact', 'commitment', 'implicit', 'paraphrase'];
/** Traps whose tempting text sits in the asked town's own report. */
const SAME_REPORT_TRAPS = ['other-year', 'plan-only', 'result-only', 'no-figure'];
/** Words by which a sentence outside a plan section still states a target (…计划年内…, 待汛期结束…). */
const PLAN_WORDS = /计划|将|待|力争|确保|目标|年内|打算|争取/;
/** Questions asking when, whose answer is a date or a deadline rather than a quantity. */
const WHEN = /什么时候|何时|几月|哪天|哪一天|多久/;
const DEADLINE = /年内|年底|月底|月\d*日|\d+月|前竣工|汛期|近期/;
const DIGIT = /[0-9一二两三四五六七八九十百千万]/;

type Json = Record<string, unknown>;

interface Report {
  file: string;
  town: string;
  /** Normalised cleaned text of the whole report. */
  text: string;
  /** Normalised text as loaded, before cleaning: what the published file says. */
  raw: string;
  /** Normalised text and section role of each chunk, as the index stores them. */
  chunks: Array<{ text: string; role: string }>;
}

interface Corpus {
  byFile: Map<string, Report>;
  byTown: Map<string, Report>;
}

function readJsonl(file: string): Json[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim() !== '')
    .map(([line, n]) => {
      try {
        return JSON.parse(line) as Json;
      } catch (e) {
        throw new Error(`${path.basename(file)} line ${n} is not JSON: ${(e as Error).message}`);
      }
    });
}

async function loadCorpus(): Promise<Corpus> {
  const byFile = new Map<string, Report>();
  const byTown = new Map<string, Report>();
  for (const file of await listCorpusFiles(CORPUS)) {
    const loaded = await loadFile(CORPUS, file);
    const sidecarFile = path.join(CORPUS, file.replace(/\.[^./]+$/, '') + '.meta.json');
    const sidecar = fs.existsSync(sidecarFile) ? sidecarSchema.parse(JSON.parse(fs.readFileSync(sidecarFile, 'utf8'))) : {};
    const doc = describeDocument(loaded, cleanText(loaded.text), sidecar);
    const report: Report = {
      file,
      town: doc.meta.town,
      text: normalize(doc.text),
      raw: normalize(loaded.text),
      chunks: splitIntoChunks(doc).map((c) => ({ text: normalize(c.text), role: c.role })),
    };
    byFile.set(file, report);
    byTown.set(doc.meta.town, report);
  }
  return { byFile, byTown };
}

/** The town's name without 镇/街道 (临湖, 天生港): how people name it in passing. */
const shortName = (town: string) => town.replace(/(镇街道|街道|镇)$/, '');
const str = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const filterTown = (item: Json) => ((item.filters as Json | undefined)?.town as string | undefined) ?? undefined;

/** Roles of the chunks of a report that hold a text; empty when no single chunk holds it. */
function rolesHolding(report: Report | undefined, text: string): string[] {
  if (!report) return [];
  const n = normalize(text);
  return report.chunks.filter((c) => c.text.includes(n)).map((c) => c.role);
}

/** Checks the town labels and filter shared by single questions and dialogues. */
function checkTownAndFilter(item: Json, corpus: Corpus, where: string, problems: string[]): void {
  if (!str(item.town) || !corpus.byTown.has(item.town)) problems.push(`${where}: town "${String(item.town)}" is not a corpus town`);
  if (item.filters !== undefined) {
    const t = filterTown(item);
    if (!t || !corpus.byTown.has(t)) problems.push(`${where}: filters.town "${String(t)}" is not a corpus town`);
    else if (t !== item.town) problems.push(`${where}: filters.town ${t} differs from town ${String(item.town)}`);
  }
}

/** Every rule for single questions; returns one line per problem, each naming its item. */
function checkBank(items: Json[], corpus: Corpus, devQuestions: Set<string>): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const questions = new Map<string, string>();
  for (const item of items) {
    const id = str(item.id) ? item.id : `<no id: ${String(item.question)}>`;
    if (!/^K\d{3}$/.test(id)) problems.push(`${id}: id must be K followed by three digits`);
    if (ids.has(id)) problems.push(`${id}: duplicate id`);
    ids.add(id);
    if (!str(item.question)) {
      problems.push(`${id}: question missing`);
      continue;
    }
    const q = normalize(item.question);
    if (devQuestions.has(q)) problems.push(`${id}: question copied from eval/dev.jsonl`);
    if (questions.has(q)) problems.push(`${id}: same question as ${questions.get(q)}`);
    questions.set(q, id);
    if (!USERS.includes(item.user as string)) problems.push(`${id}: user "${String(item.user)}" is not one of ${USERS.join('/')}`);
    if (typeof item.figure !== 'boolean') problems.push(`${id}: figure must be true or false`);
    if (!(item.stance === null || item.stance === 'target' || item.stance === 'outcome')) problems.push(`${id}: stance must be target, outcome or null`);
    checkTownAndFilter(item, corpus, id, problems);
    const town = str(item.town) ? item.town : '';
    if (town && !item.question.includes(shortName(town)) && filterTown(item) !== town) {
      problems.push(`${id}: the question does not name ${town}, so it needs filters.town`);
    }
    const own = corpus.byTown.get(town);

    if (item.kind === 'unanswerable') {
      for (const f of ['file', 'evidence', 'answer', 'key'] as const) if (item[f] !== null) problems.push(`${id}: unanswerable items have ${f}: null`);
      if (item.expect !== 'not_found') problems.push(`${id}: unanswerable items expect "not_found"`);
      if (!TRAPS.includes(item.trap as (typeof TRAPS)[number])) problems.push(`${id}: trap "${String(item.trap)}" is not one of ${TRAPS.join('/')}`);
      if (item.trap === 'not-mentioned' && item.near === undefined) continue;
      if (!str(item.near) || !str(item.nearFile)) {
        problems.push(`${id}: trap ${String(item.trap)} needs near and nearFile`);
        continue;
      }
      const nearReport = corpus.byFile.get(item.nearFile);
      if (!nearReport) problems.push(`${id}: nearFile ${item.nearFile} is not in corpus/`);
      else if (rolesHolding(nearReport, item.near).length === 0) problems.push(`${id}: near "${item.near}" is not verbatim in one chunk of ${item.nearFile}`);
      else if (!nearReport.raw.includes(normalize(item.near))) problems.push(`${id}: near "${item.near}" is not in the file as published`);
      if (item.trap === 'other-town' && nearReport && nearReport === own) problems.push(`${id}: other-town near must come from another town's report`);
      if (SAME_REPORT_TRAPS.includes(item.trap as string) && nearReport && nearReport !== own) {
        problems.push(`${id}: ${String(item.trap)} near must come from ${town}'s own report`);
      }
      continue;
    }

    if (!ANSWERABLE_KINDS.includes(item.kind as string)) problems.push(`${id}: kind "${String(item.kind)}" is not one of ${[...ANSWERABLE_KINDS, 'unanswerable'].join('/')}`);
    if (item.expect !== 'answered') problems.push(`${id}: answerable items expect "answered"`);
    if (item.trap !== undefined || item.near !== undefined) problems.push(`${id}: answerable items carry no trap or near`);
    if (!str(item.file) || !str(item.evidence) || !str(item.answer) || !str(item.key)) {
      problems.push(`${id}: answerable items need file, evidence, answer and key`);
      continue;
    }
    const report = corpus.byFile.get(item.file);
    if (!report) {
      problems.push(`${id}: file ${item.file} is not in corpus/`);
      continue;
    }
    if (report !== own) problems.push(`${id}: file ${item.file} is not ${town}'s report`);
    const evidence = item.evidence;
    if (evidence.length < 8 || evidence.length > 40) problems.push(`${id}: evidence is ${evidence.length} characters, not 8-40`);
    const roles = rolesHolding(report, evidence);
    if (roles.length === 0) problems.push(`${id}: evidence "${evidence}" is not verbatim in one chunk of ${item.file}`);
    else if (!report.raw.includes(normalize(evidence))) problems.push(`${id}: evidence "${evidence}" is not in the file as published`);
    for (const other of corpus.byFile.values()) {
      if (other !== report && other.text.includes(normalize(evidence))) problems.push(`${id}: evidence "${evidence}" is also in ${other.file}`);
    }
    const key = normalize(item.key);
    if (!normalize(evidence).includes(key) && !normalize(item.answer).includes(key)) problems.push(`${id}: key "${item.key}" is in neither evidence nor answer`);
    if (item.figure === true && !DIGIT.test(item.key)) problems.push(`${id}: a figure question's key "${item.key}" holds no number`);
    if (item.figure === true && WHEN.test(item.question)) problems.push(`${id}: a when-question asks for a date, not a figure`);
    if (item.stance === 'outcome' && roles.length > 0 && !roles.includes('review')) problems.push(`${id}: outcome asked but the evidence is in a ${roles.join('/')} section`);
    if (item.stance === 'target' && roles.length > 0 && !roles.includes('plan') && !PLAN_WORDS.test(evidence)) {
      problems.push(`${id}: target asked but the evidence is in a ${roles.join('/')} section and states no plan`);
    }
  }
  return problems;
}

/** Every rule for dialogues. */
function checkDialogues(dialogues: Json[], corpus: Corpus): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const d of dialogues) {
    const id = str(d.id) ? d.id : `<no id: ${String(d.question)}>`;
    if (!/^KD\d{2,3}$/.test(id)) problems.push(`${id}: id must be KD followed by digits`);
    if (ids.has(id)) problems.push(`${id}: duplicate id`);
    ids.add(id);
    const history = d.history as Json[] | undefined;
    if (!Array.isArray(history) || history.length === 0 || !history.every((h) => str(h.question) && str(h.answer))) {
      problems.push(`${id}: history must be a non-empty list of {question, answer}`);
    } else {
      // A history answer quotes its report as the service does (据…报告:<quote>[1]。); the quote must be real.
      for (const h of history) {
        const m = /^据(.+?)报告[::](.+?)\[\d+\]。$/.exec(String(h.answer));
        const quoted = m ? corpus.byTown.get(m[1]!) : undefined;
        if (!m || !quoted) problems.push(`${id}: history answer "${String(h.answer)}" is not "据<town>报告:<quote>[1]。"`);
        else if (!quoted.text.includes(normalize(m[2]!))) problems.push(`${id}: history answer quotes text that is not in ${quoted.file}`);
      }
    }
    for (const f of ['question', 'standalone', 'evidence', 'file', 'town', 'key'] as const) if (!str(d[f])) problems.push(`${id}: ${f} missing`);
    if (typeof d.selfContained !== 'boolean') problems.push(`${id}: selfContained must be true or false`);
    checkTownAndFilter(d, corpus, id, problems);
    if (!str(d.question) || !str(d.standalone) || !str(d.evidence) || !str(d.file) || !str(d.key) || !str(d.town)) continue;
    const report = corpus.byFile.get(d.file);
    if (!report) {
      problems.push(`${id}: file ${d.file} is not in corpus/`);
      continue;
    }
    if (report.town !== d.town) problems.push(`${id}: file ${d.file} is not ${d.town}'s report`);
    if (rolesHolding(report, d.evidence).length === 0) problems.push(`${id}: evidence "${d.evidence}" is not verbatim in one chunk of ${d.file}`);
    if (d.evidence.length < 8 || d.evidence.length > 40) problems.push(`${id}: evidence is ${d.evidence.length} characters, not 8-40`);
    if (!normalize(d.evidence).includes(normalize(d.key))) problems.push(`${id}: key "${d.key}" is not in the evidence`);
    // The standalone form says which town is searched, by name or by the filter that travels with it.
    if (!d.standalone.includes(shortName(d.town)) && filterTown(d) !== d.town) problems.push(`${id}: standalone "${d.standalone}" names neither ${d.town} nor has its filter`);
    if (d.selfContained === true) {
      if (d.standalone !== d.question) problems.push(`${id}: a self-contained question is searched as typed, so standalone must equal question`);
      if (!d.question.includes(shortName(d.town)) && filterTown(d) !== d.town) problems.push(`${id}: self-contained question names no town and has no town filter`);
    } else if (d.standalone === d.question) {
      problems.push(`${id}: an elliptical question needs a rewritten standalone`);
    }
  }
  return problems;
}

/** Character bigrams of a text's CJK, digits and Latin letters. */
function bigrams(text: string): Set<string> {
  const s = text.replace(/[^\u4e00-\u9fff0-9A-Za-z]/g, '');
  return new Set(Array.from({ length: Math.max(0, s.length - 1) }, (_, i) => s.slice(i, i + 2)));
}

/** Share of a question's bigrams (town names left out) that its evidence also has. */
function overlapWithEvidence(item: Json, towns: string[]): number {
  let q = String(item.question);
  for (const t of towns) q = q.split(t).join('');
  const qb = bigrams(q);
  const eb = bigrams(String(item.evidence));
  return qb.size === 0 ? 0 : [...qb].filter((b) => eb.has(b)).length / qb.size;
}

/** Town of a history turn: the corpus town its question names, if any. */
function historyTown(d: Json, corpus: Corpus): string | undefined {
  const q = ((d.history as Json[] | undefined) ?? []).map((h) => String(h.question)).join(' ');
  return [...corpus.byTown.keys()].find((t) => q.includes(shortName(t)));
}

let corpus: Corpus;
let items: Json[];
let dialogues: Json[];
let dev: Set<string>;

beforeAll(async () => {
  corpus = await loadCorpus();
  items = readJsonl(BANK);
  dialogues = readJsonl(DIALOGUES);
  dev = new Set(readJsonl(DEV).map((i) => normalize(String(i.question))));
});

describe('eval/bank.jsonl', () => {
  it('loads the five shipped reports', () => {
    expect(corpus.byFile.size).toBe(5);
  });

  it('has complete, consistent labels and verbatim evidence for every item', () => {
    expect(checkBank(items, corpus, dev)).toEqual([]);
  });

  it('meets the composition minimums', () => {
    const count = (pred: (i: Json) => boolean) => items.filter(pred).length;
    expect(items.length, 'items in all').toBeGreaterThanOrEqual(320);
    const paraphrase = items.filter((i) => i.kind === 'paraphrase');
    expect(paraphrase.length, 'paraphrase items').toBeGreaterThanOrEqual(100);
    expect(paraphrase.filter((i) => i.user !== 'resident').map((i) => i.id), 'paraphrase items asked by someone other than a resident').toEqual([]);
    // Residents' words share few terms with the report: little of the question recurs in the evidence.
    const towns = [...corpus.byTown.keys()].flatMap((t) => [t, shortName(t)]).sort((a, b) => b.length - a.length);
    const overlaps = paraphrase.map((i) => [i.id, overlapWithEvidence(i, towns)] as const);
    expect(overlaps.filter(([, o]) => o > 0.5).map(([id]) => id), 'paraphrases that repeat over half of their evidence').toEqual([]);
    expect(overlaps.reduce((a, [, o]) => a + o, 0) / overlaps.length, 'mean bigram overlap of paraphrases with their evidence').toBeLessThan(0.2);
    expect(count((i) => i.kind === 'unanswerable'), 'unanswerable items').toBeGreaterThanOrEqual(80);
    for (const trap of TRAPS) expect(count((i) => i.trap === trap), `items with trap ${trap}`).toBeGreaterThanOrEqual(12);
    for (const kind of ['fact', 'commitment', 'implicit']) expect(count((i) => i.kind === kind), `${kind} items`).toBeGreaterThanOrEqual(20);
    for (const user of USERS) expect(count((i) => i.user === user), `items asked by ${user}`).toBeGreaterThanOrEqual(30);
    for (const report of corpus.byFile.values()) {
      const own = items.filter((i) => i.file === report.file);
      expect(own.length, `answerable items on ${report.file}`).toBeGreaterThanOrEqual(30);
      // Review and plan sections both, where the report has both (梅李镇's is a plan only).
      for (const role of new Set(report.chunks.map((c) => c.role).filter((r) => r !== 'other'))) {
        const inRole = own.filter((i) => rolesHolding(report, String(i.evidence)).includes(role));
        expect(inRole.length, `answerable items from ${role} sections of ${report.file}`).toBeGreaterThanOrEqual(10);
      }
      expect(count((i) => i.kind === 'unanswerable' && i.town === report.town), `unanswerable items about ${report.town}`).toBeGreaterThanOrEqual(10);
    }
    const q = (re: RegExp) => count((i) => re.test(String(i.question)));
    for (const word of ['今年', '去年', '上半年', '下半年', '计划', '目标', '完成', '实际', '多少', '几', '哪些', '什么时候', '怎么']) {
      expect(q(new RegExp(word)), `questions with ${word}`).toBeGreaterThanOrEqual(3);
    }
    expect(count((i) => i.filters !== undefined), 'items with a town filter').toBeGreaterThanOrEqual(40);
    expect(count((i) => i.stance === 'target'), 'items asking for a target').toBeGreaterThanOrEqual(60);
    expect(count((i) => i.stance === 'outcome'), 'items asking for an outcome').toBeGreaterThanOrEqual(60);
    const deadlines = items.filter((i) => i.kind !== 'unanswerable' && WHEN.test(String(i.question)));
    expect(deadlines.length, 'answerable when-questions').toBeGreaterThanOrEqual(12);
    expect(deadlines.filter((i) => !DEADLINE.test(String(i.evidence))).map((i) => i.id), 'when-questions whose evidence holds no date or deadline').toEqual([]);
  });
});

describe('eval/bank-dialogues.jsonl', () => {
  it('has complete, consistent labels and verbatim evidence for every dialogue', () => {
    expect(checkDialogues(dialogues, corpus)).toEqual([]);
  });

  it('meets the composition minimums', () => {
    expect(dialogues.length, 'dialogues').toBeGreaterThanOrEqual(44);
    const selfContained = dialogues.filter((d) => d.selfContained === true).length;
    expect(selfContained, 'self-contained second questions').toBeGreaterThanOrEqual(dialogues.length / 2);
    expect(dialogues.length - selfContained, 'elliptical second questions').toBeGreaterThanOrEqual(15);
    const moved = dialogues.filter((d) => historyTown(d, corpus) !== undefined && historyTown(d, corpus) !== d.town);
    expect(moved.length, 'dialogues whose second question is about another town than the history').toBeGreaterThanOrEqual(10);
    expect(moved.filter((d) => d.selfContained === false).length, 'elliptical dialogues that move to another town').toBeGreaterThanOrEqual(3);
    expect(dialogues.filter((d) => d.filters !== undefined).length, 'dialogues with a town filter').toBeGreaterThanOrEqual(6);
  });
});

describe('the checks themselves', () => {
  // Each mutation breaks one rule of one real item; the check must name that item.
  const mutations: Array<[string, (i: Json) => Json]> = [
    ['evidence not in the report', (i) => ({ ...i, evidence: `${String(i.evidence)}之外` })],
    ['key not in evidence or answer', (i) => ({ ...i, key: '九九九九亿元' })],
    ['unanswerable with an evidence', (i) => ({ ...i, kind: 'unanswerable', expect: 'not_found', trap: 'no-figure' })],
    ['unknown user', (i) => ({ ...i, user: 'mayor' })],
    ['filter for another town', (i) => ({ ...i, filters: { town: '梅李镇' === i.town ? '临湖镇' : '梅李镇' } })],
  ];

  it('names the item for each deliberately broken label', () => {
    const sample = items.find((i) => i.kind === 'fact')!;
    for (const [what, mutate] of mutations) {
      const broken = { ...mutate(sample), id: 'K999' };
      const problems = checkBank([broken], corpus, dev);
      expect(problems.some((p) => p.startsWith('K999:')), `${what}: ${problems.join('; ')}`).toBe(true);
    }
    const trap = items.find((i) => i.trap === 'plan-only')!;
    expect(checkBank([{ ...trap, id: 'K998', near: '这句话不在任何报告里出现' }], corpus, dev).some((p) => p.startsWith('K998:'))).toBe(true);
    expect(checkBank([{ ...sample, id: 'K997' }, { ...sample, id: 'K997', question: `${String(sample.question)}?` }], corpus, dev)).toContain('K997: duplicate id');
  });

  it('names the dialogue whose evidence or rewrite is wrong', () => {
    const sample = dialogues[0]!;
    expect(checkDialogues([{ ...sample, id: 'KD99', evidence: '这句话不在任何报告里出现' }], corpus).some((p) => p.startsWith('KD99:'))).toBe(true);
    expect(checkDialogues([{ ...sample, id: 'KD98', standalone: '那医院呢?' }], corpus).some((p) => p.startsWith('KD98:'))).toBe(true);
    const madeUp = [{ question: String((sample.history as Json[])[0]!.question), answer: '据临湖镇报告:新增高新技术企业99家[1]。' }];
    expect(checkDialogues([{ ...sample, id: 'KD97', history: madeUp }], corpus).some((p) => p.startsWith('KD97:'))).toBe(true);
  });
});
