/**
 * The commitment book of a loaded index: every commitment and result of the corpus with its
 * follow-up, built once when the service first needs it (from the stored documents and sentence
 * embeddings, plus ~50 embedded topic phrases) and kept for the index generation's lifetime.
 * Also the queries over it: filtering for the API and CLI, and CSV for spreadsheets.
 */
import type { Embedder } from '../embed/embedder.js';
import { idf } from '../index/lexical.js';
import type { LoadedIndex } from '../index/store.js';
import { createTokenizer, type Tokenizer } from '../text/tokenize.js';
import { assignIds, createSegmenter, extractCommitments, extractResults, type Segmenter } from './extract.js';
import { followUpCommitments } from './follow-up.js';
import { createTopicClassifier, embedTopicPrototypes, sentenceVectorLookup, type TopicPrototypes } from './topics.js';
import type { Commitment, FollowUp, FollowUpStatus, Result, Topic } from '../domain/commitment.js';
import { FIRMNESS_LABELS, FOLLOW_UP_STATUS_LABELS } from '../domain/labels.js';

export interface CommitmentBook {
  indexVersion: string;
  commitments: Commitment[];
  results: Result[];
  followUps: Map<string, FollowUp>;
  byId: Map<string, Commitment>;
  /** Towns with commitments, in corpus order. */
  towns: string[];
  /** Milliseconds spent building each part (reported by the benchmark and logs). */
  timings: { prototypesMs: number; extractMs: number; followUpMs: number; totalMs: number };
}

/** Topic phrases embedded once per embedder (the same model serves every index it loads). */
const prototypeCache = new WeakMap<Embedder, Promise<TopicPrototypes>>();

function prototypesFor(embedder: Embedder): Promise<TopicPrototypes> {
  let p = prototypeCache.get(embedder);
  if (!p) {
    p = embedTopicPrototypes(embedder);
    prototypeCache.set(embedder, p);
    p.catch(() => prototypeCache.delete(embedder));
  }
  return p;
}

export interface BookParts {
  segmenter: Segmenter;
  tokenizer: Tokenizer;
  /** Override of the topic classifier's cue weight (for calibration runs). */
  cueWeight: number;
}

/** Builds the commitment book of an index. */
export async function buildCommitmentBook(index: LoadedIndex, embedder: Embedder, parts?: Partial<BookParts>): Promise<CommitmentBook> {
  const started = performance.now();
  const prototypes = await prototypesFor(embedder);
  const prototypesMs = performance.now() - started;

  const extractStarted = performance.now();
  const segmenter = parts?.segmenter ?? createSegmenter(index.lexicon);
  const tokenizer = parts?.tokenizer ?? createTokenizer(index.lexicon);
  const sentenceVector = sentenceVectorLookup(index);
  const classifyTopic = createTopicClassifier({ prototypes, sentenceVector, tokenizer, ...(parts?.cueWeight !== undefined ? { cueWeight: parts.cueWeight } : {}) });
  const commitments: Commitment[] = [];
  const results: Result[] = [];
  for (const doc of index.documents) {
    commitments.push(...assignIds(extractCommitments(doc, { segmenter, classifyTopic }), 'c'));
    results.push(...assignIds(extractResults(doc, { segmenter }), 'r'));
  }
  const extractMs = performance.now() - extractStarted;

  const followStarted = performance.now();
  const followUps = followUpCommitments(commitments, results, index.documents, {
    tokenize: (t) => tokenizer.tokenize(t).filter((w) => w.length >= 2 || /\d/.test(w)),
    weightOf: (t) => idf(index.keywords, t),
    sentenceSimilarity: (a, b) => {
      const va = sentenceVector(a.docId, a.sentenceStart);
      const vb = sentenceVector(b.docId, b.sentenceStart);
      if (!va || !vb) return undefined;
      let s = 0;
      for (let i = 0; i < va.length; i++) s += va[i]! * vb[i]!;
      return s;
    },
  });
  const followUpMs = performance.now() - followStarted;

  return {
    indexVersion: index.manifest.indexVersion,
    commitments,
    results,
    followUps,
    byId: new Map(commitments.map((c) => [c.id, c])),
    towns: [...new Set(commitments.map((c) => c.town))],
    timings: {
      prototypesMs: Math.round(prototypesMs),
      extractMs: Math.round(extractMs),
      followUpMs: Math.round(followUpMs),
      totalMs: Math.round(performance.now() - started),
    },
  };
}

export interface CommitmentFilter {
  town?: string;
  /** The year the commitment is due. */
  year?: number;
  topic?: Topic;
  status?: FollowUpStatus;
  /** Words that must all appear in the clause, its sentence or its section (case-insensitive). */
  q?: string;
}

/** A commitment as listed: the record plus its status (evidence stays with the detail view). */
export interface CommitmentRow extends Commitment {
  status: FollowUpStatus;
  statusNote: string;
}

export function rowOf(book: CommitmentBook, c: Commitment): CommitmentRow {
  const f = book.followUps.get(c.id);
  return { ...c, status: f?.status ?? 'no-later-report', statusNote: f?.note ?? '' };
}

/** The commitments that pass a filter, in document order. */
export function listCommitments(book: CommitmentBook, filter: CommitmentFilter = {}): CommitmentRow[] {
  const words = (filter.q ?? '')
    .normalize('NFKC')
    .toLowerCase()
    .split(/[\s,,]+/)
    .filter(Boolean);
  return book.commitments
    .filter((c) => {
      if (filter.town && c.town !== filter.town) return false;
      if (filter.year !== undefined && c.year !== filter.year) return false;
      if (filter.topic && c.topic !== filter.topic) return false;
      if (filter.status && (book.followUps.get(c.id)?.status ?? 'no-later-report') !== filter.status) return false;
      if (words.length > 0) {
        const hay = `${c.clause} ${c.sentence} ${c.section} ${c.topic}`.normalize('NFKC').toLowerCase();
        if (!words.every((w) => hay.includes(w))) return false;
      }
      return true;
    })
    .map((c) => rowOf(book, c));
}

const CSV_COLUMNS: Array<[string, (r: CommitmentRow) => string | number]> = [
  ['id', (r) => r.id],
  ['镇', (r) => r.town],
  ['年份', (r) => r.year],
  ['主题', (r) => r.topic],
  ['动作', (r) => r.action],
  ['力度', (r) => FIRMNESS_LABELS[r.firmness]],
  ['承诺', (r) => r.clause],
  ['目标', (r) => r.targets.map((t) => `${t.what ? `${t.what} ` : ''}${t.text}`).join('; ')],
  ['时限', (r) => r.deadline ?? ''],
  ['状态', (r) => FOLLOW_UP_STATUS_LABELS[r.status]],
  ['说明', (r) => r.statusNote],
  ['报告', (r) => r.title],
  ['日期', (r) => r.date],
  ['章节', (r) => r.section],
  ['原句', (r) => r.sentence],
  ['起', (r) => r.start],
  ['止', (r) => r.end],
];

export function csvCell(value: string | number): string {
  let text = String(value);
  // A cell starting with = + - @ would run as a formula in a spreadsheet.
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV with a UTF-8 byte order mark (so Excel reads the Chinese) and CRLF line ends. */
export function commitmentsToCsv(rows: readonly CommitmentRow[]): string {
  const lines = [CSV_COLUMNS.map(([name]) => csvCell(name)).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
