/**
 * The commitment book: every commitment and result of the corpus with its follow-up. Computed at
 * ingest from the build's own documents, chunks, sentence embeddings and tokenizer (plus ~50
 * embedded topic phrases), stored as derived records of the generation, and read back when a
 * service first needs it (no extraction after ingest). Also the queries over it: filtering for
 * the API and CLI, and CSV for spreadsheets.
 */
import type { Embedder } from '../embed/embedder.js';
import { AppError } from '../errors.js';
import type { DerivedRecord, IndexSnapshot } from '../store/index-store.js';
import { RecentlyUsed } from '../store/shared.js';
import type { Tokenizer } from '../text/tokenize.js';
import type { Chunk, ParsedDocument } from '../domain/types.js';
import { assignIds, createSegmenter, extractCommitments, extractResults, type Segmenter } from './extract.js';
import { followUpCommitments } from './follow-up.js';
import { createTopicClassifier, embedTopicPrototypes, sentenceVectorLookup, type TopicPrototypes } from './topics.js';
import type { Commitment, FollowUp, FollowUpStatus, Result, Topic } from '../domain/commitment.js';
import { FIRMNESS_LABELS, FOLLOW_UP_STATUS_LABELS } from '../domain/labels.js';

/**
 * Derived kinds of the book (src/index/derive.ts): one record per commitment, one per result, one
 * per town listing the town's records, and the summary.
 */
export const COMMITMENTS_KIND = 'commitments';
export const RESULTS_KIND = 'commitment-results';
export const TOWN_BOOK_KIND = 'commitment-towns';
export const BOOK_KIND = 'commitment-book';

/** The value of the 'commitment-book' record (key 'summary'): present in every index that holds a book. */
export interface BookSummaryValue {
  commitments: number;
  results: number;
  /** Towns with commitments or results, in corpus order (keys of the 'commitment-towns' records). */
  towns: string[];
}

/** The value of a 'commitment-towns' record (key: the town): its records' ids, in document order. */
export interface TownBookValue {
  commitments: string[];
  results: string[];
}

/** The value of a 'commitments' record: the commitment, its follow-up and its place in document order. */
export interface CommitmentRecordValue {
  order: number;
  commitment: Commitment;
  followUp: FollowUp;
}

/** The value of a 'commitment-results' record. */
export interface ResultRecordValue {
  order: number;
  result: Result;
}

/** What the book holds: plain data, the same whether just computed or read from the index. */
export interface BookContent {
  /** In document order (documents in ingest order). */
  commitments: Commitment[];
  results: Result[];
  followUps: Map<string, FollowUp>;
}

export interface CommitmentBook extends BookContent {
  indexVersion: string;
  byId: Map<string, Commitment>;
  /** Towns the book holds (all of the index's, or those it was read for), in corpus order. */
  towns: string[];
  /** Milliseconds spent reading the stored records (the book is computed at ingest). */
  timings: { readMs: number };
}

/** The finished build the book is computed from (DeriveInput's fields, or a loaded index's). */
export interface BookSource {
  documents: readonly ParsedDocument[];
  /** Every chunk, in ingest order. */
  chunks: readonly Chunk[];
  /** Embedding of each chunk's sentences, per chunk, in sentence order. */
  sentenceVectors: ReadonlyArray<readonly Float32Array[]>;
  /** The tokenizer keyword search uses (topic cue words, follow-up word overlap). */
  tokenizer: Tokenizer;
  /** BM25 idf of a token over the chunks: follow-up weights shared words by rarity. */
  weightOf: (token: string) => number;
  /** Corpus terms (the lexicon), kept whole by the clause segmenter. */
  lexicon: readonly string[];
  embedder: Embedder;
}

/** Topic phrases embedded once per embedder (the same model serves every build it makes). */
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
  /** The clause segmenter (jieba with part-of-speech tags and the action verbs). Default: one over source.lexicon. */
  segmenter: Segmenter;
  /** Override of the topic classifier's cue weight (for calibration runs). */
  cueWeight: number;
}

/** Computes the commitment book of a build (what ingest stores; tests compare it with the stored one). */
export async function computeCommitmentBook(source: BookSource, parts?: Partial<BookParts>): Promise<BookContent> {
  const prototypes = await prototypesFor(source.embedder);
  // The clause segmenter tags parts of speech and holds the action verbs as words: the keyword
  // tokenizer's dictionary must not get them (they would change BM25's tokens), so it is its own.
  const segmenter = parts?.segmenter ?? createSegmenter(source.lexicon);
  const { tokenizer } = source;
  const sentenceVector = sentenceVectorLookup(source.chunks, source.sentenceVectors);
  const classifyTopic = createTopicClassifier({ prototypes, sentenceVector, tokenizer, ...(parts?.cueWeight !== undefined ? { cueWeight: parts.cueWeight } : {}) });
  const chunksOf = new Map<string, Chunk[]>();
  for (const chunk of source.chunks) {
    const list = chunksOf.get(chunk.docId);
    if (list) list.push(chunk);
    else chunksOf.set(chunk.docId, [chunk]);
  }
  const commitments: Commitment[] = [];
  const results: Result[] = [];
  for (const doc of source.documents) {
    const chunks = chunksOf.get(doc.meta.docId) ?? [];
    commitments.push(...assignIds(extractCommitments(doc, { segmenter, classifyTopic, chunks }), 'c'));
    results.push(...assignIds(extractResults(doc, { segmenter, chunks }), 'r'));
  }
  const followUps = followUpCommitments(commitments, results, source.documents, {
    tokenize: (t) => tokenizer.tokenize(t).filter((w) => w.length >= 2 || /\d/.test(w)),
    weightOf: source.weightOf,
    sentenceSimilarity: (a, b) => {
      const va = sentenceVector(a.docId, a.sentenceStart);
      const vb = sentenceVector(b.docId, b.sentenceStart);
      if (!va || !vb) return undefined;
      let s = 0;
      for (let i = 0; i < va.length; i++) s += va[i]! * vb[i]!;
      return s;
    },
  });
  return { commitments, results, followUps };
}

/** The book as derived records (JSON-serialisable plain data). */
export function commitmentRecords(book: BookContent): DerivedRecord[] {
  const records: DerivedRecord[] = [];
  const byTown = new Map<string, TownBookValue>();
  const townOf = (town: string) => {
    let entry = byTown.get(town);
    if (!entry) byTown.set(town, (entry = { commitments: [], results: [] }));
    return entry;
  };
  book.commitments.forEach((commitment, order) => {
    const followUp = book.followUps.get(commitment.id);
    if (!followUp) throw new Error(`commitments: ${commitment.id} has no follow-up`);
    const value: CommitmentRecordValue = { order, commitment, followUp };
    records.push({ kind: COMMITMENTS_KIND, key: commitment.id, value });
    townOf(commitment.town).commitments.push(commitment.id);
  });
  book.results.forEach((result, order) => {
    const value: ResultRecordValue = { order, result };
    records.push({ kind: RESULTS_KIND, key: result.id, value });
    townOf(result.town).results.push(result.id);
  });
  for (const [town, value] of byTown) records.push({ kind: TOWN_BOOK_KIND, key: town, value });
  const summary: BookSummaryValue = { commitments: book.commitments.length, results: book.results.length, towns: [...byTown.keys()] };
  records.push({ kind: BOOK_KIND, key: 'summary', value: summary });
  return records;
}

type BookSnapshot = Pick<IndexSnapshot, 'generation' | 'getDerived'>;

/** The stored summary; an index written before ingest stored the book (or its towns) is refused, saying what to run. */
async function bookSummary(snapshot: BookSnapshot): Promise<BookSummaryValue> {
  const summary = (await snapshot.getDerived<BookSummaryValue>(BOOK_KIND, ['summary']))[0]?.value;
  // Derivers run at every ingest: an incremental ingest writes the book again, with no re-embedding.
  if (!summary?.towns) throw new AppError('E_INDEX_MISMATCH', 'commitments: this index holds no commitment book (built by an older version); run `npm run ingest`');
  return summary;
}

/** Stored records, kept in document order by their `order`: plain data, whichever towns they came from. */
interface BookRecords {
  commitments: CommitmentRecordValue[];
  results: ResultRecordValue[];
}

function bookOf(snapshot: BookSnapshot, towns: string[], parts: readonly BookRecords[], started: number): CommitmentBook {
  // A store need not keep records in the order written, and towns come in any order: `order` restores document order.
  const values = parts.flatMap((p) => p.commitments).sort((a, b) => a.order - b.order);
  const commitments = values.map((v) => v.commitment);
  return {
    indexVersion: snapshot.generation.id,
    commitments,
    results: parts.flatMap((p) => p.results).sort((a, b) => a.order - b.order).map((v) => v.result),
    followUps: new Map(values.map((v) => [v.commitment.id, v.followUp])),
    byId: new Map(commitments.map((c) => [c.id, c])),
    towns,
    timings: { readMs: Math.round(performance.now() - started) },
  };
}

const corrupt = (what: string, held: number, expected: number, kind: string) =>
  new AppError('E_INDEX_CORRUPT', `commitments: the index holds ${held} of ${expected} ${kind}${what}; run \`npm run ingest -- --full\``);

/** Every commitment and result of the generation (the CLI, evaluation, an unfiltered listing). */
export async function readCommitmentBook(snapshot: BookSnapshot): Promise<CommitmentBook> {
  const started = performance.now();
  const [summary, commitments, results] = await Promise.all([
    bookSummary(snapshot),
    snapshot.getDerived<CommitmentRecordValue>(COMMITMENTS_KIND),
    snapshot.getDerived<ResultRecordValue>(RESULTS_KIND),
  ]);
  if (summary.commitments !== commitments.length) throw corrupt('', commitments.length, summary.commitments, 'commitments');
  if (summary.results !== results.length) throw corrupt('', results.length, summary.results, 'results');
  return bookOf(snapshot, summary.towns, [{ commitments: commitments.map((r) => r.value), results: results.map((r) => r.value) }], started);
}

/**
 * Some towns' records, read by the ids their 'commitment-towns' records list: three reads however
 * many towns (their ids, then their commitments and results), not three per town.
 */
async function readTownRecords(snapshot: BookSnapshot, towns: readonly string[]): Promise<Map<string, BookRecords>> {
  const lists = new Map((await snapshot.getDerived<TownBookValue>(TOWN_BOOK_KIND, towns)).map((r) => [r.key, r.value]));
  const [commitments, results] = await Promise.all([
    snapshot.getDerived<CommitmentRecordValue>(COMMITMENTS_KIND, towns.flatMap((t) => lists.get(t)?.commitments ?? [])),
    snapshot.getDerived<ResultRecordValue>(RESULTS_KIND, towns.flatMap((t) => lists.get(t)?.results ?? [])),
  ]);
  const out = new Map<string, BookRecords>(towns.map((t) => [t, { commitments: [], results: [] }]));
  for (const r of commitments) out.get(r.value.commitment.town)?.commitments.push(r.value);
  for (const r of results) out.get(r.value.result.town)?.results.push(r.value);
  for (const [town, records] of out) {
    const list = lists.get(town) ?? { commitments: [], results: [] };
    if (records.commitments.length !== list.commitments.length) throw corrupt(` of ${town}`, records.commitments.length, list.commitments.length, 'commitments');
    if (records.results.length !== list.results.length) throw corrupt(` of ${town}`, records.results.length, list.results.length, 'results');
  }
  return out;
}

/** Commitments plus results a reader keeps, in all: the shipped corpus' whole book is about 1,300. */
export const BOOK_READER_CAPACITY = 20_000;

/** Reads the book for some towns, or all of it; see {@link commitmentBookReader}. */
export type CommitmentBookReader = (towns?: readonly string[]) => Promise<CommitmentBook>;

/**
 * The book of one generation as a service reads it: a town's records on first need, kept while
 * they fit `capacity` (least recently used dropped first), so that a replica's memory does not
 * grow with the corpus (500 reports' whole book is ~130 MB of objects). Asked for no towns, it
 * reads every town (an unfiltered listing) through the same cache. A failed read is kept for
 * no one: the next call reads again.
 */
export function commitmentBookReader(snapshot: BookSnapshot, capacity = BOOK_READER_CAPACITY): CommitmentBookReader {
  let summary: Promise<BookSummaryValue> | undefined;
  const held = new RecentlyUsed<BookRecords>(capacity, (r) => r.commitments.length + r.results.length + 1);
  const reading = new Map<string, Promise<BookRecords>>();
  /** The towns' records: kept ones, ones another call is reading, the rest in one read. */
  const townRecords = (towns: readonly string[]): Promise<BookRecords[]> => {
    const kept = new Map<string, BookRecords>();
    for (const t of towns) {
      const records = held.get(t);
      if (records) kept.set(t, records);
    }
    const missing = towns.filter((t) => !kept.has(t) && !reading.has(t));
    if (missing.length > 0) {
      const read = readTownRecords(snapshot, missing);
      for (const town of missing) {
        // Kept before it leaves `reading`, so that no call in between reads the town again.
        const one = read.then((all) => {
          const records = all.get(town)!;
          held.set(town, records);
          return records;
        });
        reading.set(town, one);
        one.then(
          () => reading.delete(town),
          () => reading.delete(town),
        );
      }
    }
    return Promise.all(towns.map((t) => kept.get(t) ?? reading.get(t)!));
  };
  return async (towns) => {
    const started = performance.now();
    summary ??= bookSummary(snapshot).catch((err: unknown) => ((summary = undefined), Promise.reject(err)));
    const stored = (await summary).towns;
    const asked = towns ? new Set(towns) : undefined;
    const wanted = asked ? stored.filter((t) => asked.has(t)) : stored;
    return bookOf(snapshot, wanted, await townRecords(wanted), started);
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
  return COMMITMENTS_CSV_HEAD + commitmentCsvLines(rows);
}

/** The start of the CSV: a UTF-8 byte order mark (Excel reads the file as UTF-8) and the header line. */
export const COMMITMENTS_CSV_HEAD = `\uFEFF${CSV_COLUMNS.map(([name]) => csvCell(name)).join(',')}\r\n`;

/** CSV lines of rows, each ending in CRLF: written after COMMITMENTS_CSV_HEAD, in as many parts as wanted. */
export function commitmentCsvLines(rows: readonly CommitmentRow[]): string {
  return rows.map((r) => `${CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(',')}\r\n`).join('');
}
