/**
 * Commitment and result extraction: reads the plan sections of a parsed report clause by clause
 * and keeps each clause in which the town undertakes a specific, checkable action (完成东环路新建道路
 * 工程, 新增规上企业15家以上, 开展“执法会客”座谈会), with its verb, firmness, object, figures, deadline
 * and topic; reads review sections the same way for achieved figures and completions. Pure: the
 * document, its chunks as ingest made them, a jieba segmenter and a topic classifier in, plain
 * records out.
 */
import type { Chunk, ParsedDocument, Role, Section } from '../domain/types.js';
import {
  ABSTRACT_HEADS,
  COMPLETION,
  CONCRETE_HEADS,
  DEADLINE,
  DELIVERABLE_VERBS,
  EFFORT_VERBS,
  LEADING_ADVERBS,
  MODAL_VERBS,
  NOT_COMPLETED,
  PRINCIPLE_VERBS,
  firmnessOf,
} from './lexicon.js';
import { parseTargets } from './targets.js';
import type { Commitment, Firmness, Result, SourceRef, Target, Topic } from '../domain/commitment.js';
import { townAliases } from '../domain/towns.js';
import { createJieba } from '../text/jieba.js';

/** A word of a clause with its part-of-speech tag (jieba's) and offset in the clause. */
export interface Word {
  word: string;
  tag: string;
  start: number;
}

/** Splits text into tagged words. */
export interface Segmenter {
  segment(text: string): Word[];
}

const VERBS = new Set<string>([...DELIVERABLE_VERBS, ...EFFORT_VERBS, ...PRINCIPLE_VERBS, ...Object.keys(MODAL_VERBS)]);
const PRINCIPLE = new Set<string>(PRINCIPLE_VERBS);
/** Verbs that frame a clause like a preposition (围绕…, 聚焦…, 依托…) before its real verb. */
const FRAME_VERBS = new Set(['形成', '围绕', '聚焦', '依托', '立足', '对照', '结合', '按照', '根据', '针对', '通过', '借助', '紧扣', '紧贴', '顺应', '紧紧围绕']);

/** True when a clause starts with its verb, or with adverbs and then its verb (持续推进…). */
function leadsWithVerb(clause: string, action: Action, segmenter: Segmenter): boolean {
  return segmenter.segment(clause.slice(0, action.start)).every((w) => LEADING_ADVERBS.has(w.word));
}

/**
 * A jieba segmenter whose dictionary also holds `extraWords` (the corpus' own terms, such as
 * 千村美居 or 梅李镇) and the action verbs, so 全面完成 or 建立健全 stay whole.
 */
export function createSegmenter(extraWords: readonly string[] = []): Segmenter {
  const jieba = createJieba([...extraWords, ...VERBS].map((word) => ({ word, tag: VERBS.has(word) ? 'v' : 'nz' })));
  // Clauses are segmented several times (verb search, enumeration cuts, objects): remember them.
  const memo = new Map<string, Word[]>();
  return {
    segment(text) {
      const known = memo.get(text);
      if (known) return known;
      let at = 0;
      const words = jieba.tag(text, true).map(({ word, tag }) => {
        const start = text.indexOf(word, at);
        at = start === -1 ? at : start + word.length;
        return { word, tag, start: start === -1 ? at : start };
      });
      if (memo.size > 50_000) memo.clear();
      memo.set(text, words);
      return words;
    },
  };
}

/** What the topic classifier is given for one commitment. */
export interface TopicInput {
  docId: string;
  sentenceStart: number;
  sentenceEnd: number;
  sentence: string;
  clause: string;
  /** Heading path of the section, top first. */
  sectionPath: string[];
}

export type TopicClassifier = (input: TopicInput) => Topic;

export interface ExtractOptions {
  segmenter: Segmenter;
  classifyTopic: TopicClassifier;
  /**
   * The document's chunks as the index holds them (ingest's own chunking): their sentences are
   * the ones read, so each record's sentence is one the index embedded and can cite.
   */
  chunks: readonly Chunk[];
}

/** A sentence of a section, as the index holds it (same splitting, so its embedding can be found). */
interface SentenceSpan {
  start: number;
  end: number;
  text: string;
  section: Section;
  chunkId: string;
  /** In the introduction of a part: only its quantified targets count. */
  intro: boolean;
}

/**
 * True for the text a section holds before its first subsection, when it has subsections: the
 * introduction of a part (指导思想, 总体要求 …), which states targets but no particular undertakings.
 */
function isIntroduction(sections: readonly Section[], section: Section, offset: number): boolean {
  if (section.heading === '' && section.level === 0) return true;
  const firstChild = sections.find((s) => s.start > section.start && s.start < section.end && s.level > section.level);
  return firstChild !== undefined && offset < firstChild.start;
}

/** The sentences of the document's sections of one role, skipping headings. */
function sentencesOf(doc: ParsedDocument, chunks: readonly Chunk[], role: Role): SentenceSpan[] {
  const spans: SentenceSpan[] = [];
  for (const chunk of chunks) {
    if (chunk.docId !== doc.meta.docId || chunk.role !== role) continue;
    for (const [start, end] of chunk.sentences) {
      const section = deepestSection(doc.sections, start);
      if (!section) continue;
      // The heading itself (1.聚焦思想引领,持续抓好理论武装。) is not a commitment.
      if (start < section.bodyStart && end <= section.bodyStart + 1) continue;
      spans.push({ start, end, text: doc.text.slice(start, end), section, chunkId: chunk.id, intro: isIntroduction(doc.sections, section, start) });
    }
  }
  return spans;
}

function deepestSection(sections: readonly Section[], offset: number): Section | undefined {
  // Parents precede their subsections, so the last section holding the offset is the deepest.
  let best: Section | undefined;
  for (const s of sections) if (s.start <= offset && offset < s.end) best = s;
  return best;
}

/** Preambles, guiding ideology and the closing appeal of a plan part promise nothing checkable. */
const PREAMBLE = /指导思想|总体要求|总基调|开局之年|关键之年|收官之年|决胜之年|之年[,,。]|做好以下|重点做好|主要做好|各位代表|让我们|我们将坚持|我们要/;

/** Run-in sub-headings (点燃产业升级“助推器”。稳住市场主体激发活力。): short, no figure, no deliverable. */
function isRunInHeading(sentence: string, segmenter: Segmenter): boolean {
  const body = sentence.replace(/[。;!?]$/, '');
  if (body.length > 14 || /\d/.test(body)) return false;
  if (/[,,]/.test(body) && body.length > 16) return false;
  const words = segmenter.segment(body).map((w) => w.word);
  return !words.some((w) => firmnessOf(w) === 'deliverable' && !(w in MODAL_VERBS));
}

/** A clause of a sentence: the text between commas/semicolons/colons (and 、 before a new verb). */
interface Clause {
  text: string;
  start: number;
  end: number;
}

function splitClauses(sentence: string, offset: number, segmenter: Segmenter): Clause[] {
  const clauses: Clause[] = [];
  const re = /[^,,;;::。!?]+/g;
  for (const m of sentence.matchAll(re)) {
    const text = m[0];
    if (!/[\u4e00-\u9fff\d]/.test(text)) continue;
    // Quoted commas (“双向联动、快速反应”) do not split; 、 splits only before a clause with its own verb.
    let from = 0;
    for (const cut of enumerationCuts(text, segmenter)) {
      clauses.push(trimmed(text.slice(from, cut), offset + m.index + from));
      from = cut + 1;
    }
    clauses.push(trimmed(text.slice(from), offset + m.index + from));
  }
  return clauses.filter((c) => c.text.length > 0);
}

function trimmed(text: string, start: number): Clause {
  const lead = text.length - text.trimStart().length;
  const t = text.trim();
  return { text: t, start: start + lead, end: start + lead + t.length };
}

/** Positions of 、 that join two clauses each led by its own verb (…创建、完成…整治8条、建成…10条). */
function enumerationCuts(text: string, segmenter: Segmenter): number[] {
  const cuts: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '“' || c === '《' || c === '(' || c === '(') depth++;
    else if (c === '”' || c === '》' || c === ')' || c === ')') depth = Math.max(0, depth - 1);
    else if (c === '、' && depth === 0) {
      const left = text.slice(cuts.length ? cuts.at(-1)! + 1 : 0, i);
      const right = text.slice(i + 1);
      const leftAction = findAction(left, segmenter);
      const rightAction = findAction(right, segmenter);
      if (
        leftAction &&
        rightAction &&
        rightAction.kind !== 'principle' &&
        leadsWithVerb(right, rightAction, segmenter) &&
        leftAction.objectStart < left.length - 2 &&
        right.length - rightAction.objectStart >= 3
      ) {
        cuts.push(i);
      }
    }
  }
  return cuts;
}

interface Action {
  verb: string;
  kind: 'deliverable' | 'effort' | 'principle';
  firmness?: Firmness;
  /** Offset of the verb in the clause. */
  start: number;
  /** Where the object starts in the clause. */
  objectStart: number;
}

/**
 * The verb that carries a clause: the first known verb, except that an adverb-like verb followed by
 * another verb gives way to it (持续推进 → 推进, 加快推进 → 推进), and a modal (力争, 确保) is kept.
 */
function findAction(clause: string, segmenter: Segmenter): Action | undefined {
  const words = segmenter.segment(clause);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const known = VERBS.has(w.word);
    if (!known) continue;
    // 围绕企业需求提供“保姆式服务”: a framing verb gives way to a later verb of the same clause.
    if (FRAME_VERBS.has(w.word) && words.slice(i + 2).some((x) => VERBS.has(x.word) && !PRINCIPLE.has(x.word) && !LEADING_ADVERBS.has(x.word))) continue;
    const next = words[i + 1];
    const nextNext = words[i + 2];
    if (w.word in MODAL_VERBS) {
      return { verb: w.word, kind: MODAL_VERBS[w.word]!, firmness: MODAL_VERBS[w.word]!, start: w.start, objectStart: w.start + w.word.length };
    }
    const follows = next && VERBS.has(next.word) ? next : next && LEADING_ADVERBS.has(next.word) && nextNext && VERBS.has(nextNext.word) ? nextNext : undefined;
    if (LEADING_ADVERBS.has(w.word) && follows) continue;
    const kind = PRINCIPLE.has(w.word) ? 'principle' : firmnessOf(w.word)!;
    return { verb: w.word, kind, ...(kind !== 'principle' ? { firmness: kind } : {}), start: w.start, objectStart: w.start + w.word.length };
  }
  return undefined;
}

/** 村级稳定收入突破1450万元, 失业率控制在5%: the verb states the figure (a clause of its own), unlike 研发用地220亩. */
function predicatesFigure(clause: string, action: Action): boolean {
  return /^(在|到|至|为|达)?(超过|不少于|不低于)?[\d一二两三四五六七八九十]/.test(clause.slice(action.objectStart));
}

/** Clauses of framing and purpose: 以…为契机, 为…提供…, 让/使…. */
const FRAMING = /^(以|在)[^,,]{1,40}?为(契机|切入点|引领|抓手|载体|主线|重点|核心|主导|依托|基础|导向|目标|试点|主题|牵引|中心|原型|依据|龙头|突破口)/;
const PURPOSE = /^(为|让|使|以便|以期|助力|确保实现)|为[^,,]{1,30}提供/;
/** Today's state, not a promise: 利用好现阶段20个二级网格. */
const EXISTING = /现阶段|现有的?[\d一二三四五六七八九十两]|目前已/;
/** Verbs naming an end state whose object must still be concrete: 实现…跃升 promises nothing checkable. */
const WEAK_DELIVERABLES = new Set(['实现', '形成', '提供', '确保', '达到']);
/** Verbs whose object is checkable by itself (a title won, an event held): 争创…示范园, 开展…行动. */
const CHECKABLE_VERBS = new Set(['争创', '创建', '申报', '开展', '实施', '实行', '举办', '组织', '创成', '打响']);

const ENDINGS = [
  ...ABSTRACT_HEADS.map((w) => ({ w, abstract: true })),
  ...CONCRETE_HEADS.map((w) => ({ w, abstract: false })),
].sort((a, b) => b.w.length - a.w.length);

/** Whether an object ends in an abstract head (水平, 发展, 队伍建设), a concrete one (项目, 机制, …率), or neither. */
function headKind(object: string): 'abstract' | 'concrete' | undefined {
  // 做好…监测工作: 工作 says nothing; the word before it does. 各项工作 is nothing in particular.
  if (/(各项|各类|各种|等各项)[^,,]{0,6}工作$/.test(object)) return 'abstract';
  const core = object.replace(/工作$/, '') || object;
  const hit = ENDINGS.find((e) => core.endsWith(e.w));
  return hit ? (hit.abstract ? 'abstract' : 'concrete') : undefined;
}

/** Why a clause with a verb is (or is not) a commitment. */
function isCheckable(clause: string, action: Action, object: string, targets: Target[], context: CheckContext): boolean {
  if (action.kind === 'principle') return false;
  if (EXISTING.test(clause)) return false;
  // 把…转化为…: a disposal construction states an aim, not an act.
  if (/把/.test(clause.slice(0, action.start))) return false;
  if (targets.length > 0) return true;
  const bare = object.replace(/^[的了和及与、\s]+/, '').replace(/[等的了\s”]+$/, '');
  if (bare.length < 2) return false;
  const kind = headKind(bare);
  if (kind === 'abstract') return false;
  // 各项…, 各类…: everything of a kind is nothing in particular.
  if (/^(各项|各类|各种|各个)/.test(bare) || /(各项|各类|各种)[^、,]{0,12}(工作|措施|举措)$/.test(bare)) return false;
  if (action.kind === 'deliverable' && !WEAK_DELIVERABLES.has(action.verb)) return true;
  if (CHECKABLE_VERBS.has(action.verb)) return true;
  if (kind === 'concrete') return true;
  return isSpecific(bare, context.segmenter.segment(bare), context.ownNames);
}

interface CheckContext {
  segmenter: Segmenter;
  /** The town's own names: everything in its report is about it, so they single nothing out. */
  ownNames: Set<string>;
}

/** Proper-name tags of jieba (x: not in its dictionary, often a local name such as 瞿巷 or 浦庄). */
const NAME_TAGS = new Set(['x', 'nr', 'nrt', 'ns', 'nz', 'nt', 'j']);
const GENERIC_NAMES = new Set(['全镇', '镇村', '村居', '各村', '农村', '乡村', '城乡', '社区', '街道', '我镇', '本镇', '全区', '党中央', '政府', '人大', '政协']);

/** Names something in particular: a quoted or bracketed name, a place or firm, an enumeration. */
function isSpecific(object: string, words: Word[], ownNames: Set<string>): boolean {
  if (/[“《]/.test(object) || /\d/.test(object)) return true;
  // An enumeration of things (钢城路、华联路等), not of aims (政策支持、要素保障).
  const firstItem = object.split(/[、]/)[0] ?? '';
  if (/[、]|等(?=[\u4e00-\u9fff])/.test(object) && headKind(firstItem) !== 'abstract' && !VERBS.has(words.find((w) => firstItem.endsWith(w.word) && w.start + w.word.length === firstItem.length)?.word ?? '')) {
    return true;
  }
  return words.some(
    (w) => w.word.length >= 2 && NAME_TAGS.has(w.tag) && /^[\u4e00-\u9fff]+$/.test(w.word) && !GENERIC_NAMES.has(w.word) && !ownNames.has(w.word),
  );
}

/** The deadline a clause states, else one stated at the head of its sentence (年内完成…,…). */
function deadlineOf(clause: string, sentence: string): string | undefined {
  const own = clause.match(DEADLINE);
  if (own) return own[0].replace(/^(到|至|于)/, '');
  const head = sentence.slice(0, 8).match(/^(年内|年底前|今年内|全年|下半年)/);
  return head?.[1];
}

/** The year a deadline names (到2025年, 2023年底), if any. */
function deadlineYear(deadline: string | undefined): number | undefined {
  const m = deadline?.match(/((?:19|20)\d{2})年/);
  return m ? Number(m[1]) : undefined;
}

function sourceOf(doc: ParsedDocument, s: SentenceSpan): SourceRef {
  return {
    docId: doc.meta.docId,
    town: doc.meta.town,
    title: doc.meta.title,
    date: doc.meta.date,
    section: s.section.path.join(' > '),
    role: s.section.role,
    sentence: s.text,
    sentenceStart: s.start,
    sentenceEnd: s.end,
    chunkId: s.chunkId,
  };
}

/** The commitments of every plan section of a report. */
export function extractCommitments(doc: ParsedDocument, options: ExtractOptions): Commitment[] {
  const { segmenter } = options;
  const town = doc.meta.town;
  const context: CheckContext = { segmenter, ownNames: new Set(townAliases(town)) };
  const out: Commitment[] = [];
  for (const s of sentencesOf(doc, options.chunks, 'plan')) {
    if (PREAMBLE.test(s.text) || isRunInHeading(s.text, segmenter)) continue;
    const inSentence: Commitment[] = [];
    const clauses = splitClauses(s.text, s.start, segmenter);
    const sentenceHasVerb = clauses.some((c) => findAction(c.text, segmenter));
    for (const clause of clauses) {
      if (FRAMING.test(clause.text) || PURPOSE.test(clause.text)) continue;
      const action = findAction(clause.text, segmenter);
      const targets = parseTargets(clause.text, { offset: clause.start, ...(action ? { objectStart: action.objectStart } : {}) });
      if (!action) {
        const previous = inSentence.at(-1);
        if (targets.length > 0 && previous) {
          // A clause with figures but no verb adds to the commitment before it (…3个,星级“上云”企业10家).
          previous.targets.push(...targets);
          previous.clause = doc.text.slice(previous.start, clause.end);
          previous.end = clause.end;
          continue;
        }
        // A bare target list item (地区生产总值107亿元。) under 主要目标是: is a commitment of its own.
        if (targets.length > 0 && !sentenceHasVerb) inSentence.push(makeCommitment(doc, s, clause, { verb: '目标', kind: 'deliverable', firmness: 'deliverable', start: 0, objectStart: 0 }, targets, options));
        continue;
      }
      const previous = inSentence.at(-1);
      if (previous && previous.targets.length > 0 && targets.length > 0 && !leadsWithVerb(clause.text, action, segmenter) && !predicatesFigure(clause.text, action)) {
        // 教育研发用地220亩 after …净地340亩: a noun phrase with a figure continues the list.
        previous.targets.push(...targets);
        previous.clause = doc.text.slice(previous.start, clause.end);
        previous.end = clause.end;
        continue;
      }
      const object = clause.text.slice(action.objectStart);
      if (s.intro && targets.length === 0) continue;
      if (!isCheckable(clause.text, action, object, targets, context)) continue;
      inSentence.push(makeCommitment(doc, s, clause, action, targets, options));
    }
    out.push(...inSentence);
  }
  return out;
}

function makeCommitment(doc: ParsedDocument, s: SentenceSpan, clause: Clause, action: Action, targets: Target[], options: ExtractOptions): Commitment {
  const deadline = deadlineOf(clause.text, s.text);
  const year = deadlineYear(deadline) ?? s.section.years[0] ?? doc.meta.years.at(-1) ?? 0;
  const object = clause.text.slice(action.objectStart).replace(/^[的了\s]+/, '');
  return {
    id: '',
    ...sourceOf(doc, s),
    year,
    clause: clause.text,
    start: clause.start,
    end: clause.end,
    action: action.verb,
    firmness: action.firmness ?? 'effort',
    object,
    targets,
    ...(deadline ? { deadline } : {}),
    topic: options.classifyTopic({
      docId: doc.meta.docId,
      sentenceStart: s.start,
      sentenceEnd: s.end,
      sentence: s.text,
      clause: clause.text,
      sectionPath: s.section.path,
    }),
  };
}

/** The document a commitment or result id (assignIds) belongs to. */
export function docIdOfRecord(id: string): string {
  return id.slice(0, id.lastIndexOf(':'));
}

/** Gives each record a stable id: its document, sentence offset and place in the sentence. */
export function assignIds<T extends { id: string; docId: string; sentenceStart: number }>(records: T[], kind: 'c' | 'r'): T[] {
  const seen = new Map<string, number>();
  for (const r of records) {
    const key = `${r.docId}:${kind}${r.sentenceStart}`;
    const k = (seen.get(key) ?? 0) + 1;
    seen.set(key, k);
    r.id = `${key}-${k}`;
  }
  return records;
}

/** Achieved figures and completions in the review sections of a report. */
export function extractResults(doc: ParsedDocument, options: Pick<ExtractOptions, 'segmenter' | 'chunks'>): Result[] {
  const { segmenter } = options;
  const out: Result[] = [];
  for (const s of sentencesOf(doc, options.chunks, 'review')) {
    const inSentence: Result[] = [];
    for (const clause of splitClauses(s.text, s.start, segmenter)) {
      const action = findAction(clause.text, segmenter);
      const targets = parseTargets(clause.text, { offset: clause.start, ...(action ? { objectStart: action.objectStart } : {}) });
      const completed = COMPLETION.test(clause.text) && !NOT_COMPLETED.test(clause.text);
      const object = action ? clause.text.slice(action.objectStart) : clause.text;
      if (!action && targets.length > 0 && inSentence.length > 0) {
        const previous = inSentence.at(-1)!;
        previous.targets.push(...targets);
        previous.clause = doc.text.slice(previous.start, clause.end);
        previous.end = clause.end;
        continue;
      }
      if (targets.length === 0 && !completed && !(action && action.kind !== 'principle' && object.length >= 2)) continue;
      inSentence.push({
        id: '',
        ...sourceOf(doc, s),
        years: s.section.years,
        clause: clause.text,
        start: clause.start,
        end: clause.end,
        action: action?.verb ?? '',
        completed,
        object,
        targets,
      });
    }
    out.push(...inSentence);
  }
  return out;
}
