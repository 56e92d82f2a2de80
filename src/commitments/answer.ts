/**
 * Answers from the commitment book: a question that asks for promises as a list (梅李镇2023年在民生
 * 方面有哪些承诺?) gets the matching commitments, each with its [n] citation; a question about one
 * promise's outcome (淀山湖镇2020年的地区生产总值目标完成了吗?) gets what was promised and what later
 * reports say, or that the corpus has no later report. Any other question is left to retrieval.
 */
import type { Answer, Citation } from '../domain/answer.js';
import { analyzeQuery } from '../retrieve/query.js';
import type { IndexSnapshot } from '../store/index-store.js';
import { asksForList } from '../annotate/question.js';
import type { Tokenizer } from '../text/tokenize.js';
import type { Chunk, DocumentMeta, SearchFilters } from '../domain/types.js';
import type { CommitmentBook, CommitmentBookReader } from './book.js';
import type { Commitment, FollowUp, Result, SourceRef, Topic } from '../domain/commitment.js';
import { FOLLOW_UP_STATUS_LABELS } from '../domain/labels.js';
import { townAliases } from '../domain/towns.js';

/** Asks for a list of promises: 有哪些承诺, 计划做哪些事, 要做什么, 列出…目标. */
const LIST_INTENT =
  /(有|做|干|办|推进|落实|包括)(了)?(哪些|什么|几项|多少项)(承诺|计划|目标|任务|打算|工作|事|事情|举措|项目|重点|实事)?|哪些(承诺|计划|目标|任务|打算|举措|重点工作|实事)|承诺(了)?(什么|哪些)|列出.{0,12}(承诺|计划|目标|任务)|(承诺|计划|目标|任务|打算)(有|是)(哪些|什么)/;
/** …that is about the future, not about what was achieved. */
const PLAN_CONTEXT = /承诺|计划|打算|目标|任务|要做|要干|要办|将|下半年|明年|今年|新的一年|部署|安排/;
/** Asks whether a promise was kept. */
const OUTCOME_INTENT = /(完成|实现|做到|兑现|落实|达到|达成|达标|办成|建成)(了)?(吗|没有|没|了没)|有没有(完成|实现|做到|兑现|落实|达到|建成)|是否(完成|实现|做到|兑现|落实|达到|建成)|(完成|兑现|落实)(情况|得怎么样|得如何)|进展(如何|怎么样)/;

const STRONG_OUTCOME = /(完成|实现|兑现|建成|达到|达成|办成)(了)?(吗|没有|没|了没)|有没有(完成|实现|兑现|建成|达到)|是否(完成|实现|兑现|建成|达到)/;

/** Question words that name topics. 民生 covers the services residents use. */
const TOPIC_WORDS: Array<[RegExp, Topic[]]> = [
  [/民生|为民实事|惠民/, ['教育', '医疗卫生', '养老与社会保障', '就业']],
  [/经济|产业|企业|招商|投资|营商/, ['经济发展']],
  [/科技|创新|人才|高新/, ['科技创新']],
  [/城建|城市建设|城乡建设|城镇建设|拆迁|安置|城市更新|规划/, ['城乡建设']],
  [/交通|道路|修路|桥梁|停车|充电桩/, ['交通']],
  [/环保|环境|生态|污染|治污|河道|水体|绿化/, ['生态环境']],
  [/农业|农村|乡村|三农|农田|村集体/, ['农业农村']],
  [/教育|学校|幼儿园|上学/, ['教育']],
  [/医疗|卫生|医院|看病|健康/, ['医疗卫生']],
  [/养老|老人|社保|社会保障|救助|残疾|退役军人/, ['养老与社会保障']],
  [/就业|创业|失业|找工作/, ['就业']],
  [/文化|旅游|体育|文体|健身/, ['文化旅游']],
  [/治理|治安|平安|信访|矛盾|网格|执法/, ['社会治理与平安']],
  [/安全生产|消防|应急|隐患/, ['安全生产']],
  [/政务|审批|办事|服务大厅|窗口/, ['政务服务']],
  [/党建|作风|廉政|干部|党风/, ['党建与作风']],
  [/疫情|防疫|核酸|疫苗/, ['疫情防控']],
];

/** Words of a question that say what kind of answer it wants, not what it is about. */
const QUESTION_WORDS = new Set([
  '承诺', '计划', '打算', '目标', '任务', '完成', '实现', '做到', '兑现', '落实', '达到', '情况', '进展', '哪些', '什么', '方面',
  '工作', '事情', '要做', '做', '今年', '明年', '下半年', '上半年', '全年', '年', '镇', '了', '吗', '没有', '是否', '有没有',
  '怎么样', '如何', '达成', '事', '重点', '主要', '举措', '项目', '列出', '一下', '多少', '几项', '建成', '办成', '当年', '年度',
  '下半', '上半', '半年', '年底', '年内', '明年', '新的一年', '接下来', '之后', '以后', '未来', '准备', '部署', '安排', '干', '办',
]);

/** Longest list read out in an answer; the rest is counted and left to the commitments view. */
export const MAX_LISTED = 12;

/** What answering from the book reads besides the book (the question's generation, through the store). */
export interface CommitmentAnswerSource {
  /** Towns of the corpus (to read the question's town). */
  towns: readonly string[];
  /** The request's filters: a town filter narrows, a role filter of `review` turns this path off. */
  filters?: SearchFilters;
  /** The index's keyword tokenizer: content words of a text, and its segmenter for reading the question. */
  tokenizer: Tokenizer;
  /** The generation the book belongs to: the chunks cited and term weights. */
  snapshot: Pick<IndexSnapshot, 'getChunks' | 'termStats'>;
  /** Its documents' metadata by id (the read context's, so no question reads them all again). */
  documents: ReadonlyMap<string, DocumentMeta>;
}

/** The lookups the answer is composed with, fetched from the snapshot before composing. */
interface CommitmentAnswerContext {
  towns: readonly string[];
  filters?: SearchFilters;
  /** Chunks by id, to cite the passage that holds a commitment. */
  chunk: (chunkId: string) => Chunk | undefined;
  /** Document metadata by id (title and date of citations). */
  document: (docId: string) => DocumentMeta | undefined;
  tokenize: (text: string) => string[];
  /** How rare a word is in the corpus (BM25 idf). */
  weightOf: (token: string) => number;
}

/** Most towns a question that names none is answered for from the book (the shipped corpus has 5). */
const UNSCOPED_TOWNS_MAX = 20;

/** Cheap test, before the book is needed: does the question ask for commitments at all? */
export function asksAboutCommitments(question: string): 'list' | 'outcome' | undefined {
  const q = question.normalize('NFKC');
  // 完成了吗 asks about an outcome by itself; 进展如何 only when it names a promise.
  if (OUTCOME_INTENT.test(q) && (STRONG_OUTCOME.test(q) || /承诺|计划|目标|任务|打算|要|将/.test(q))) return 'outcome';
  // Only a question that asks for a list (有哪些承诺/目标/计划/任务) gets one: "…有什么安排?" about
  // one named thing is a question for retrieval.
  if (LIST_INTENT.test(q) && PLAN_CONTEXT.test(q) && asksForList(q)) return 'list';
  return undefined;
}

function topicsAsked(question: string): Topic[] {
  const topics = new Set<Topic>();
  for (const [re, list] of TOPIC_WORDS) if (re.test(question)) for (const t of list) topics.add(t);
  return [...topics];
}

/** Builds citations for the records quoted, one per passage, numbered in order of first use. */
class CitationList {
  readonly citations: Citation[] = [];
  private readonly byChunk = new Map<string, number>();

  constructor(private readonly context: CommitmentAnswerContext) {}

  /** The [n] of the passage holding a record's sentence (added on first use). */
  cite(record: SourceRef): number | undefined {
    const chunk = record.chunkId ? this.context.chunk(record.chunkId) : undefined;
    if (!chunk) return undefined;
    const known = this.byChunk.get(chunk.id);
    if (known) return known;
    const meta = this.context.document(chunk.docId);
    const n = this.citations.length + 1;
    this.citations.push({
      n,
      chunkId: chunk.id,
      docId: chunk.docId,
      title: meta?.title ?? record.title,
      town: chunk.town,
      date: meta?.date ?? record.date,
      section: chunk.sectionPath.join(' > '),
      role: chunk.role,
      text: chunk.text,
      start: chunk.start,
      end: chunk.end,
      score: 1,
      quote: { start: record.sentenceStart, end: record.sentenceEnd },
    });
    this.byChunk.set(chunk.id, n);
    return n;
  }
}

const answered = (answer: string, citations: Citation[]): Answer => ({
  answer,
  found: true,
  status: 'answered',
  mode: 'extractive',
  citations,
  // Commitments are quoted from the book, not scored against the question: full confidence.
  diagnostics: { coverage: 1, missing: 0, topDense: 1, sentenceDense: 1, confidence: 1, reason: 'answered' },
});

/**
 * The answer to a list or outcome question from the commitment book, or undefined when the
 * question is neither (or the book has nothing that fits, so retrieval should answer it).
 */
async function answerFromCommitments(question: string, intent: 'list' | 'outcome', readBook: CommitmentBookReader, source: CommitmentAnswerSource): Promise<Answer | undefined> {
  if (source.filters?.role === 'review') return undefined;
  const q = question.normalize('NFKC');
  const analysis = analyzeQuery(q, source.towns, source.tokenizer.segmenter);
  if (analysis.unknownPlace) return undefined;
  const towns = source.filters?.town ? [source.filters.town] : analysis.towns;
  // Promises of every town of a large corpus are no answer (and would read its whole book): retrieval answers.
  if (towns.length === 0 && source.towns.length > UNSCOPED_TOWNS_MAX) return undefined;
  // Only the towns asked about are read (all of them when none is named).
  const book = await readBook(towns.length > 0 ? towns : undefined);
  const years = source.filters?.year !== undefined ? [source.filters.year] : analysis.years;
  const halfYear = /下半年/.test(q);
  const scoped = book.commitments.filter(
    (c) => (towns.length === 0 || towns.includes(c.town)) && (years.length === 0 || years.includes(c.year)) && (!halfYear || /下半年/.test(c.section)),
  );
  if (scoped.length === 0) return undefined;
  // Everything composing may cite or weigh, in two reads: the passages of the commitments in
  // scope and of their evidence, and the subject words' weights.
  const tokenize = (text: string) => source.tokenizer.tokenize(text);
  const words = subjectWords(q, towns, tokenize);
  const chunkIds = [...new Set(scoped.flatMap((c) => [c.chunkId, ...(book.followUps.get(c.id)?.evidence ?? []).map((e) => e.result.chunkId)]).filter((id): id is string => !!id))];
  const [chunks, stats] = await Promise.all([source.snapshot.getChunks(chunkIds), source.snapshot.termStats(words)]);
  const byId = new Map(chunks.flatMap((c) => (c ? [[c.id, c] as const] : [])));
  const context: CommitmentAnswerContext = {
    towns: source.towns,
    ...(source.filters ? { filters: source.filters } : {}),
    chunk: (id) => byId.get(id),
    document: (id) => source.documents.get(id),
    tokenize,
    weightOf: (t) => stats.terms[t]?.idf ?? 0,
  };
  return intent === 'list' ? listAnswer(q, words, scoped, book, context, towns, years) : outcomeAnswer(words, scoped, book, context);
}

/** The question's own content words: what the promise is about (安置房, 地区生产总值). */
function subjectWords(question: string, towns: readonly string[], tokenize: (text: string) => string[]): string[] {
  let q = question;
  for (const t of towns) for (const alias of townAliases(t)) q = q.split(alias).join('');
  q = q.replace(/(19|20)\d{2}年/g, '');
  for (const [re] of TOPIC_WORDS) q = q.replace(new RegExp(re.source, 'g'), ' ');
  return [...new Set(tokenize(q))].filter((t) => t.length >= 2 && !QUESTION_WORDS.has(t));
}

function matchScore(c: Commitment, words: string[], context: CommitmentAnswerContext): number {
  if (words.length === 0) return 0;
  const hay = `${c.clause} ${c.targets.map((t) => t.what).join(' ')}`;
  let total = 0;
  let hit = 0;
  for (const w of words) {
    const weight = context.weightOf(w);
    total += weight;
    if (hay.includes(w)) hit += weight;
  }
  return total > 0 ? hit / total : 0;
}

function listAnswer(question: string, words: string[], scoped: Commitment[], book: CommitmentBook, context: CommitmentAnswerContext, towns: string[], years: number[]): Answer | undefined {
  const topics = topicsAsked(question);
  let chosen = topics.length > 0 ? scoped.filter((c) => topics.includes(c.topic)) : scoped;
  // Subject words beyond the topic (安置房, 河道) narrow the list when some commitment has them.
  if (words.length > 0) {
    const narrowed = chosen.filter((c) => matchScore(c, words, context) >= 0.5);
    if (narrowed.length > 0) chosen = narrowed;
    else if (topics.length === 0) return undefined;
  }
  if (chosen.length === 0) return undefined;
  // Promises with a deliverable or a figure first; document order otherwise.
  const ranked = [...chosen].sort((a, b) => weight(b) - weight(a) || a.docId.localeCompare(b.docId) || a.start - b.start);
  const shown = ranked.slice(0, MAX_LISTED).sort((a, b) => a.docId.localeCompare(b.docId) || a.start - b.start);
  const cites = new CitationList(context);
  const anyFollowUp = shown.some((c) => book.followUps.get(c.id)?.status !== 'no-later-report');
  const lines = shown.map((c, i) => {
    const n = cites.cite(c);
    const status = anyFollowUp ? `(${FOLLOW_UP_STATUS_LABELS[book.followUps.get(c.id)?.status ?? 'no-later-report']})` : '';
    return `${i + 1}. ${c.clause}${status}${n ? `[${n}]` : ''}`;
  });
  const who = towns.length > 0 ? towns.join('、') : [...new Set(shown.map((c) => c.town))].join('、');
  const when = years.length > 0 ? `${years.join('、')}年` : /下半年/.test(question) ? '下半年' : '';
  const about = topics.length > 0 ? `在${topics.join('、')}方面` : '';
  const view = `/commitments?${new URLSearchParams([...(towns.length === 1 ? [['town', towns[0]!]] : []), ...(years.length === 1 ? [['year', String(years[0])]] : [])]).toString()}`;
  // No count in the text: a count is the book's, not a figure any cited passage states.
  const more = chosen.length > shown.length ? `,以下先列出交付类和有量化目标的,完整清单见承诺清单 ${decodeURIComponent(view)}` : '';
  if (shown.length === 1) {
    // One match is a quote, not a list: a count of one is a figure no passage states.
    const c = shown[0]!;
    const n = cites.citations.length > 0 ? 1 : undefined;
    return answered(`${c.town}${c.year}年的计划:${c.clause.replace(/[。;]$/, '')}${n ? `[${n}]` : ''}。`, cites.citations);
  }
  const head = `${who}${when}${about}的报告中的承诺${more}:`;
  return answered(`${head}\n${lines.join('\n')}`, cites.citations);
}

/** Deliverables and quantified promises first: they are the ones officials check. */
function weight(c: Commitment): number {
  return (c.targets.length > 0 ? 2 : 0) + (c.firmness === 'deliverable' ? 1 : 0) + (c.deadline ? 0.5 : 0);
}

function outcomeAnswer(words: string[], scoped: Commitment[], book: CommitmentBook, context: CommitmentAnswerContext): Answer | undefined {
  let best: { c: Commitment; score: number } | undefined;
  for (const c of scoped) {
    const score = matchScore(c, words, context) + (c.targets.length > 0 ? 0.01 : 0);
    if (!best || score > best.score) best = { c, score };
  }
  if (!best || best.score < 0.5) return undefined;
  const c = best.c;
  const followUp = book.followUps.get(c.id);
  const cites = new CitationList(context);
  const n = cites.cite(c);
  const promised = `${c.town}${c.year}年的计划:${c.clause}${n ? `[${n}]` : ''}。`;
  let outcome: string;
  switch (followUp?.status ?? 'no-later-report') {
    case 'no-later-report':
      outcome = `语料中还没有${c.town}之后的报告,无法核实这项承诺是否完成。`;
      break;
    case 'not-reported':
      outcome = `之后的报告(${laterTitles(followUp!, context)})没有提到这项承诺的完成情况。`;
      break;
    default: {
      const evidence = followUp!.evidence[0]!;
      const m = cites.cite(evidence.result);
      outcome = `之后的报告称:${evidenceText(evidence.result)}${m ? `[${m}]` : ''}。${followUp!.status === 'met' ? '已完成' : '部分完成'}:${followUp!.note}。`;
    }
  }
  return answered(`${promised}${outcome}`, cites.citations);
}

function evidenceText(r: Result): string {
  return r.clause.replace(/[。;]$/, '');
}

function laterTitles(f: FollowUp, context: CommitmentAnswerContext): string {
  return f.laterDocIds.map((id) => context.document(id)?.title ?? id).join('、');
}

/**
 * The service's hook: answers a list or outcome question from the commitment book (read on first
 * need through `book`), else undefined so that retrieval answers. Other questions cost one
 * regular-expression test.
 */
export async function answerCommitmentQuestion(question: string, book: CommitmentBookReader, source: CommitmentAnswerSource): Promise<Answer | undefined> {
  const intent = asksAboutCommitments(question);
  return intent ? answerFromCommitments(question, intent, book, source) : undefined;
}
