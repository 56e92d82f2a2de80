/**
 * The PostgreSQL index store (pg + pgvector): the same IndexStore as the file store, with every
 * generation's rows in tables keyed by generation (schema: migrations/, 001 and 003).
 *
 * - Isolation by generation, not by transaction: a snapshot pins the published generation's id and
 *   every query names it; rows of a generation are never changed once it is published, and the
 *   previous published one is kept when a new one is published (a reader that pinned it just
 *   before the switch finishes on it). So a reader sees the old generation or the new, never a mix.
 * - Writers stream rows in batches outside any long transaction, then publish by switching the one
 *   row of published_generation. A writer that died (its process gone, or silent past its lease)
 *   is recognised by the next beginGeneration(), which deletes its rows.
 * - Filters are SQL. Within named towns vector search is exact (a sequential scan of the towns'
 *   rows: an HNSW walk under so selective a filter visits most of the graph); otherwise HNSW with
 *   pgvector's iterative scan, so a role or year filter still yields k hits.
 * - BM25: document frequencies and postings come from SQL, filtered there; the scores are summed
 *   with src/index/lexical.ts's own functions in the same order, so rankings equal the file store's.
 */
import os from 'node:os';
import pg from 'pg';
import { fromSql, toSql } from 'pgvector';
import { AppError } from '../../errors.js';
import { idfOfCount, rankScores, termScore } from '../../index/lexical.js';
import { INDEX_FORMAT_VERSION } from '../../index/store.js';
import type { Chunk, DocumentMeta, ParsedDocument } from '../../domain/types.js';
import type {
  ChunkHit,
  ChunkRecord,
  DerivedRecord,
  GenerationInfo,
  GenerationMeta,
  GenerationWriter,
  IndexSnapshot,
  IndexStore,
  SentenceHit,
  StoreFilters,
  TermStats,
  TermStatsOptions,
  WatchOptions,
} from '../index-store.js';
import { pollGeneration } from '../index-store.js';
import { checkGenerationId, GenerationCheck, isProcessAlive, newGenerationId, RecentlyUsed } from '../shared.js';
import { listMigrations, schemaVersion } from './migrate.js';

export interface PostgresStoreOptions {
  /** postgres://… of a PostgreSQL ≥ 15 with pgvector, migrated (npm run db:migrate). */
  connectionString: string;
  /** Model the generation must have been built with (a mismatch is E_INDEX_MISMATCH). */
  embeddingModel: string;
  /** Vector length the generation must have (the schema holds vector(512)). */
  dimension: number;
  /** Connections in the pool. Default 4. */
  maxConnections?: number;
  /** Chunks per INSERT while writing. Default 100. */
  batchChunks?: number;
  /** A writer whose heartbeat is older than this is taken for dead, in ms. Default 30000. */
  writerLeaseMs?: number;
}

/** HNSW breadth, as the file store's hnswlib search (EF_SEARCH in src/index/vector.ts). */
const EF_SEARCH = 128;
/**
 * Rows by id a snapshot keeps (each kind: chunks, chunk vectors, derived records, terms): a few
 * MB each, enough for the passages a busy day keeps citing; the rest is read again when asked.
 */
const RECENT_ROWS = 2000;
const RECENT_TERMS = 10_000;
/** Postings a snapshot keeps, in all (12 bytes each: about 12 MB). */
const RECENT_POSTINGS = 1_000_000;

/** A term's postings (chunk position, term count, chunk length), as the keyword search reads them. */
interface TermPostings {
  ords: Int32Array;
  tfs: Int32Array;
  lengths: Int32Array;
}
const NO_POSTINGS: TermPostings = { ords: new Int32Array(0), tfs: new Int32Array(0), lengths: new Int32Array(0) };
/** An arbitrary constant naming the writers' lock (held only while a writer registers). */
const WRITER_LOCK = 7_318_204_552;

type Queryable = pg.Pool | pg.PoolClient;

/** Appends the filters' SQL conditions on `alias` (town, role, years columns), adding their parameters. */
function filterSql(filters: StoreFilters | undefined, params: unknown[], alias: string): string {
  let sql = '';
  if (filters?.towns && filters.towns.length > 0) {
    params.push([...filters.towns]);
    sql += ` AND ${alias}.town = ANY($${params.length}::text[])`;
  }
  if (filters?.role) {
    params.push(filters.role);
    sql += ` AND ${alias}.role = $${params.length}`;
  }
  if (filters?.year !== undefined) {
    params.push(filters.year);
    sql += ` AND $${params.length}::integer = ANY(${alias}.years)`;
  }
  return sql;
}

/** The prefix of a kept read's key for a set of towns (any order; none: all towns). */
const townScope = (towns: readonly string[] | undefined): string => (towns && towns.length > 0 ? `${[...towns].sort().join('\u0001')}\u0000` : '\u0000');
const vectorParam = (v: Float32Array): string => toSql(Array.from(v))!;
const yearsLiteral = (years: readonly number[]): string => `{${years.join(',')}}`;
/**
 * Vectors are read as text (`embedding::text`) and parsed here rather than by a type parser
 * registered per connection: a connection opened before the schema (and the vector type) existed
 * would otherwise return them unparsed.
 */
const toFloat32 = (text: string): Float32Array => Float32Array.from(fromSql(text) as number[]);

interface GenerationRow {
  id: string;
  name: string;
  meta: GenerationMeta & { formatVersion: number; createdAt: string };
  counts: { documents: number; chunks: number; sentences: number } | null;
  lexicon: string[];
  average_length: number | null;
}

class PostgresSnapshot implements IndexSnapshot {
  readonly generation: GenerationInfo;
  // Reads by id of an immutable generation, kept (see RecentlyUsed): each answer would otherwise
  // ask the database again for the chunks, vectors, annotations and term counts it asked for before.
  private readonly recentChunks = new RecentlyUsed<Chunk>(RECENT_ROWS);
  private readonly recentVectors = new RecentlyUsed<Float32Array>(RECENT_ROWS);
  private readonly recentChunkIds = new RecentlyUsed<string>(RECENT_TERMS);
  private readonly recentPostings = new RecentlyUsed<TermPostings>(RECENT_POSTINGS, (p) => p.ords.length + 1);
  private readonly recentDerived = new RecentlyUsed<unknown>(RECENT_ROWS);
  private readonly recentDf = new RecentlyUsed<number>(RECENT_TERMS);
  private readonly recentTownCounts = new RecentlyUsed<Record<string, number>>(RECENT_TERMS);

  constructor(
    private readonly pool: pg.Pool,
    private readonly row: GenerationRow,
  ) {
    const counts = row.counts!;
    this.generation = {
      id: row.name,
      createdAt: row.meta.createdAt,
      formatVersion: row.meta.formatVersion,
      embeddingModel: row.meta.embeddingModel,
      dimension: row.meta.dimension,
      pipelineVersion: row.meta.pipelineVersion,
      documents: counts.documents,
      chunks: counts.chunks,
      sentences: counts.sentences,
      files: row.meta.files ?? {},
    };
  }

  /** Runs a vector query; k beyond the pool's ef_search needs a wider one for this query alone. */
  private async nearest<R extends pg.QueryResultRow>(sql: string, params: unknown[], k: number): Promise<R[]> {
    if (k <= EF_SEARCH) return (await this.pool.query<R>(sql, params)).rows;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL hnsw.ef_search = ${Math.min(1000, Math.floor(k))}`);
      const rows = (await client.query<R>(sql, params)).rows;
      await client.query('COMMIT');
      return rows;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async searchChunks(vector: Float32Array, k: number, filters?: StoreFilters): Promise<ChunkHit[]> {
    if (k <= 0) return [];
    const params: unknown[] = [vectorParam(vector), this.row.id, Math.floor(k)];
    const where = `c.generation_id = $2${filterSql(filters, params, 'c')}`;
    const exact = (filters?.towns?.length ?? 0) > 0;
    // OFFSET 0 keeps the planner from ordering through the HNSW index: the exact path compares every row.
    const sql = exact
      ? `SELECT chunk_id, distance FROM (SELECT c.chunk_id, c.ord, c.embedding <=> $1 AS distance FROM chunks c WHERE ${where} OFFSET 0) AS candidates ORDER BY distance, ord LIMIT $3`
      : `SELECT c.chunk_id, c.embedding <=> $1 AS distance FROM chunks c WHERE ${where} ORDER BY c.embedding <=> $1 LIMIT $3`;
    const rows = await this.nearest<{ chunk_id: string; distance: number }>(sql, params, k);
    return rows.map((r) => ({ chunkId: r.chunk_id, score: 1 - r.distance }));
  }

  async searchSentences(vector: Float32Array, k: number, filters?: StoreFilters): Promise<SentenceHit[]> {
    if (k <= 0) return [];
    const params: unknown[] = [vectorParam(vector), this.row.id, Math.floor(k)];
    const where = `s.generation_id = $2${filterSql(filters, params, 's')}`;
    const exact = (filters?.towns?.length ?? 0) > 0;
    const nearest = exact
      ? `SELECT chunk_ord, k, distance FROM (SELECT s.chunk_ord, s.k, s.embedding <=> $1 AS distance FROM sentences s WHERE ${where} OFFSET 0) AS candidates ORDER BY distance, chunk_ord, k LIMIT $3`
      : `SELECT s.chunk_ord, s.k, s.embedding <=> $1 AS distance FROM sentences s WHERE ${where} ORDER BY s.embedding <=> $1 LIMIT $3`;
    const sql = `SELECT c.chunk_id, n.k, n.distance FROM (${nearest}) AS n JOIN chunks c ON c.generation_id = $2 AND c.ord = n.chunk_ord ORDER BY n.distance, n.chunk_ord, n.k`;
    const rows = await this.nearest<{ chunk_id: string; k: number; distance: number }>(sql, params, k);
    return rows.map((r) => ({ chunkId: r.chunk_id, sentence: r.k, score: 1 - r.distance }));
  }

  async searchKeywords(tokens: readonly string[], k: number, filters?: StoreFilters): Promise<ChunkHit[]> {
    const terms = [...new Set(tokens)];
    if (terms.length === 0 || k <= 0) return [];
    const [dfs, postings] = await Promise.all([this.documentFrequencies(terms), this.postingsOf(terms, filters ?? {})]);
    // Term by term in the query's order, as searchKeywordIndex: the same sums in the same order.
    const n = this.generation.chunks;
    const average = this.row.average_length ?? 0;
    const scores = new Map<number, number>();
    postings.forEach(({ ords, tfs, lengths }, t) => {
      const weight = idfOfCount(dfs[t]!, n);
      for (let i = 0; i < ords.length; i++) scores.set(ords[i]!, (scores.get(ords[i]!) ?? 0) + termScore(weight, tfs[i]!, lengths[i]!, average));
    });
    const top = rankScores(scores, k);
    const ids = await this.chunkIdsAt(top.map((h) => h.index));
    return top.map((h, i) => ({ chunkId: ids[i]!, score: h.score }));
  }

  async findPhrase(phrase: string, limit: number, filters?: StoreFilters): Promise<ChunkHit[]> {
    if (!phrase || limit <= 0) return [];
    const params: unknown[] = [this.row.id, phrase, Math.floor(limit)];
    // A scan of the generation's chunks (of the asked towns, by chunks_by_town): staff's search for
    // prior wording, not a question's path. replace() counts as occurrences() (shared.ts) finds.
    // The text is taken out of each row's JSON once (OFFSET 0 keeps the planner from inlining it).
    const rows = (
      await this.pool.query<{ chunk_id: string; n: number }>(
        `SELECT chunk_id, (char_length(t) - char_length(replace(t, $2::text, ''))) / char_length($2::text) AS n FROM ` +
          `(SELECT c.chunk_id, c.ord, c.chunk->>'text' AS t FROM chunks c WHERE c.generation_id = $1${filterSql(filters, params, 'c')} OFFSET 0) AS m ` +
          'WHERE strpos(t, $2::text) > 0 ORDER BY n DESC, ord LIMIT $3',
        params,
      )
    ).rows;
    return rows.map((r) => ({ chunkId: r.chunk_id, score: Number(r.n) }));
  }

  /**
   * Each term's postings passing the filters, in the terms' order (empty for a term no chunk
   * holds). Kept by term and towns (recentPostings): a town's questions come back to the same
   * words. With a role or year (a chunk's fields) they are read each time.
   */
  private async postingsOf(terms: readonly string[], filters: StoreFilters): Promise<TermPostings[]> {
    const { towns, ...chunkFilters } = filters;
    const read = async (wanted: string[]): Promise<Map<string, TermPostings>> => {
      const params: unknown[] = [this.row.id, wanted];
      // Towns and chunk lengths are on the postings themselves (migrations 003, 004), so a search
      // reads only the asked towns' postings and joins no chunk; role and year are on the chunk.
      const onChunk = filterSql(chunkFilters, params, 'c');
      // One row per term with its postings as arrays: a common word has thousands, and as rows
      // they cost the wire and the client more than the database's read of them.
      const rows = (
        await this.pool.query<{ term: string; ords: number[]; tfs: number[]; lengths: number[] }>(
          'SELECT p.term, array_agg(p.chunk_ord) AS ords, array_agg(p.tf) AS tfs, array_agg(p.token_count) AS lengths FROM postings p ' +
            `WHERE p.generation_id = $1 AND p.term = ANY($2::text[])${filterSql(towns ? { towns } : undefined, params, 'p')}` +
            (onChunk ? ` AND EXISTS (SELECT 1 FROM chunks c WHERE c.generation_id = p.generation_id AND c.ord = p.chunk_ord${onChunk})` : '') +
            ' GROUP BY p.term',
          params,
        )
      ).rows;
      const found = new Map(rows.map((r) => [r.term, { ords: Int32Array.from(r.ords), tfs: Int32Array.from(r.tfs), lengths: Int32Array.from(r.lengths) }]));
      return new Map(wanted.map((t) => [t, found.get(t) ?? NO_POSTINGS]));
    };
    if (chunkFilters.role !== undefined || chunkFilters.year !== undefined) {
      const byTerm = await read([...terms]);
      return terms.map((t) => byTerm.get(t)!);
    }
    const scope = townScope(towns);
    const kept = await this.recentPostings.getMany(
      terms.map((t) => scope + t),
      async (missing) => new Map([...(await read(missing.map((s) => s.slice(scope.length))))].map(([t, p]) => [scope + t, p])),
    );
    return kept.map((p) => p!);
  }

  /** The ids of the chunks at these positions (ords), through recentChunkIds. */
  private async chunkIdsAt(ords: readonly number[]): Promise<string[]> {
    const ids = await this.recentChunkIds.getMany(
      ords.map(String),
      async (missing) =>
        new Map(
          (await this.pool.query<{ ord: number; chunk_id: string }>('SELECT ord, chunk_id FROM chunks WHERE generation_id = $1 AND ord = ANY($2::integer[])', [this.row.id, missing.map(Number)])).rows.map(
            (r) => [String(r.ord), r.chunk_id],
          ),
        ),
    );
    return ids.map((id, i) => {
      if (id === undefined) throw new AppError('E_INDEX_CORRUPT', `store: generation ${this.generation.id} has a posting of chunk ${ords[i]} but no such chunk`);
      return id;
    });
  }

  async getChunks(ids: readonly string[]): Promise<Array<Chunk | undefined>> {
    return this.recentChunks.getMany(ids, async (missing) => {
      const rows = (await this.pool.query<{ chunk_id: string; chunk: Chunk }>('SELECT chunk_id, chunk FROM chunks WHERE generation_id = $1 AND chunk_id = ANY($2::text[])', [this.row.id, missing])).rows;
      return new Map(rows.map((r) => [r.chunk_id, r.chunk]));
    });
  }

  async getChunkVectors(ids: readonly string[]): Promise<Array<Float32Array | undefined>> {
    return this.recentVectors.getMany(ids, async (missing) => {
      const rows = (
        await this.pool.query<{ chunk_id: string; embedding: string }>('SELECT chunk_id, embedding::text AS embedding FROM chunks WHERE generation_id = $1 AND chunk_id = ANY($2::text[])', [this.row.id, missing])
      ).rows;
      return new Map(rows.map((r) => [r.chunk_id, toFloat32(r.embedding)]));
    });
  }

  /** Chunks of each town (of `towns`, when given) holding each term, in the terms' order. */
  private async townCounts(terms: readonly string[], towns: readonly string[] | undefined): Promise<Array<Record<string, number> | undefined>> {
    if (towns && towns.length === 0) return terms.map(() => ({}));
    const scope = townScope(towns);
    const counts = await this.recentTownCounts.getMany(
      terms.map((t) => scope + t),
      async (missing) => {
        const wanted = missing.map((s) => s.slice(scope.length));
        const params: unknown[] = [this.row.id, wanted];
        const rows = (
          await this.pool.query<{ term: string; town: string; n: number }>(
            `SELECT p.term, p.town, count(*)::integer AS n FROM postings p WHERE p.generation_id = $1 AND p.term = ANY($2::text[])${filterSql(towns ? { towns } : undefined, params, 'p')} GROUP BY p.term, p.town`,
            params,
          )
        ).rows;
        const byTerm = new Map(wanted.map((t): [string, Record<string, number>] => [t, {}]));
        for (const r of rows) byTerm.get(r.term)![r.town] = r.n;
        return new Map([...byTerm].map(([t, c]) => [scope + t, c]));
      },
    );
    return counts;
  }

  /** Chunks holding each term (0 for a term no chunk holds), in the terms' order. */
  private async documentFrequencies(terms: readonly string[]): Promise<number[]> {
    const dfs = await this.recentDf.getMany(terms, async (missing) => {
      const rows = (await this.pool.query<{ term: string; df: number }>('SELECT term, df FROM terms WHERE generation_id = $1 AND term = ANY($2::text[])', [this.row.id, missing])).rows;
      const found = new Map(rows.map((r) => [r.term, r.df]));
      // Absent terms are kept too (df 0): a question's unknown words are asked about as often as known ones.
      return new Map(missing.map((t) => [t, found.get(t) ?? 0]));
    });
    return dfs.map((d) => d ?? 0);
  }

  async getSentenceVectors(chunkIds: readonly string[]): Promise<Map<string, Float32Array[]>> {
    const rows = (
      await this.pool.query<{ chunk_id: string; embedding: string }>(
        'SELECT c.chunk_id, s.embedding::text AS embedding FROM chunks c JOIN sentences s ON s.generation_id = c.generation_id AND s.chunk_ord = c.ord ' +
          'WHERE c.generation_id = $1 AND c.chunk_id = ANY($2::text[]) ORDER BY c.ord, s.k',
        [this.row.id, [...chunkIds]],
      )
    ).rows;
    const out = new Map<string, Float32Array[]>();
    for (const r of rows) {
      const list = out.get(r.chunk_id);
      if (list) list.push(toFloat32(r.embedding));
      else out.set(r.chunk_id, [toFloat32(r.embedding)]);
    }
    // Asked order, as the file store's map.
    return new Map(chunkIds.flatMap((id) => (out.has(id) ? [[id, out.get(id)!] as const] : [])));
  }

  async scoreSentences(vector: Float32Array, chunkIds: readonly string[]): Promise<Map<string, number[]>> {
    const rows = (
      await this.pool.query<{ chunk_id: string; distance: number }>(
        'SELECT c.chunk_id, s.embedding <=> $1 AS distance FROM chunks c JOIN sentences s ON s.generation_id = c.generation_id AND s.chunk_ord = c.ord ' +
          'WHERE c.generation_id = $2 AND c.chunk_id = ANY($3::text[]) ORDER BY c.ord, s.k',
        [vectorParam(vector), this.row.id, [...chunkIds]],
      )
    ).rows;
    const out = new Map<string, number[]>();
    for (const r of rows) {
      const list = out.get(r.chunk_id);
      if (list) list.push(1 - r.distance);
      else out.set(r.chunk_id, [1 - r.distance]);
    }
    return new Map(chunkIds.flatMap((id) => (out.has(id) ? [[id, out.get(id)!] as const] : [])));
  }

  async listDocuments(): Promise<DocumentMeta[]> {
    return (await this.pool.query<{ meta: DocumentMeta }>('SELECT meta FROM documents WHERE generation_id = $1 ORDER BY ord', [this.row.id])).rows.map((r) => r.meta);
  }

  async getDocuments(ids: readonly string[]): Promise<Array<ParsedDocument | undefined>> {
    const rows = (
      await this.pool.query<{ doc_id: string; document: ParsedDocument }>('SELECT doc_id, document FROM documents WHERE generation_id = $1 AND doc_id = ANY($2::text[])', [this.row.id, [...ids]])
    ).rows;
    const byId = new Map(rows.map((r) => [r.doc_id, r.document]));
    return ids.map((id) => byId.get(id));
  }

  async termStats(terms: readonly string[], options?: TermStatsOptions): Promise<TermStats> {
    const [dfs, townCounts] = await Promise.all([
      this.documentFrequencies(terms),
      options?.byTown ? this.townCounts(terms, options.towns) : undefined,
    ]);
    const n = this.generation.chunks;
    const stats: TermStats['terms'] = {};
    terms.forEach((term, i) => {
      stats[term] = { df: dfs[i]!, idf: idfOfCount(dfs[i]!, n) };
      // A copy: the caller owns what it is given, the kept counts stay as read.
      if (townCounts) stats[term]!.towns = { ...townCounts[i] };
    });
    return { chunkCount: n, averageLength: this.row.average_length ?? 0, terms: stats };
  }

  async lexicon(): Promise<string[]> {
    return [...this.row.lexicon];
  }

  async getDerived<T = unknown>(kind: string, keys?: readonly string[]): Promise<Array<DerivedRecord<T>>> {
    const sql = 'SELECT key, value FROM derived_records WHERE generation_id = $1 AND kind = $2';
    if (!keys) return (await this.pool.query<{ key: string; value: T }>(`${sql} ORDER BY seq`, [this.row.id, kind])).rows.map((r) => ({ kind, key: r.key, value: r.value }));
    // Records read by key (a chunk's annotations, a town's candidates) are kept; a whole kind is read once by its caller.
    const slot = (key: string): string => `${kind}\u0000${key}`;
    const values = await this.recentDerived.getMany(keys.map(slot), async (missing) => {
      const wanted = missing.map((s) => s.slice(kind.length + 1));
      const rows = (await this.pool.query<{ key: string; value: T }>(`${sql} AND key = ANY($3::text[])`, [this.row.id, kind, wanted])).rows;
      return new Map(rows.map((r) => [slot(r.key), r.value as unknown]));
    });
    return keys.flatMap((key, i) => (values[i] !== undefined ? [{ kind, key, value: values[i] as T }] : []));
  }
}

class PostgresGenerationWriter implements GenerationWriter {
  private readonly check: GenerationCheck;
  private readonly df = new Map<string, number>();
  private tokenTotal = 0;
  private nextDocument = 0;
  private nextChunk = 0;
  private nextDerived = 0;
  private done = false;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly generationId: string,
    readonly id: string,
    private readonly meta: GenerationMeta,
    private readonly batchChunks: number,
    leaseMs: number,
    private readonly createdAt: string,
  ) {
    this.check = new GenerationCheck(meta.dimension);
    this.heartbeat = setInterval(() => {
      pool.query("UPDATE generations SET heartbeat = now() WHERE id = $1 AND state = 'writing'", [generationId]).catch(() => {});
    }, Math.max(100, leaseMs / 3));
    this.heartbeat.unref();
  }

  private open(): void {
    if (this.done) throw new AppError('E_BAD_REQUEST', `store: generation ${this.id} was already published or aborted`);
  }

  async writeDocuments(documents: readonly ParsedDocument[]): Promise<void> {
    this.open();
    this.check.addDocuments(documents);
    // A few at a time: a document carries its whole text.
    for (let i = 0; i < documents.length; i += 20) {
      const batch = documents.slice(i, i + 20);
      await this.pool.query(
        'INSERT INTO documents (generation_id, ord, doc_id, meta, document) ' +
          'SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::json[], $5::json[])',
        [this.generationId, batch.map(() => this.nextDocument++), batch.map((d) => d.meta.docId), batch.map((d) => JSON.stringify(d.meta)), batch.map((d) => JSON.stringify(d))],
      );
    }
  }

  async writeChunks(records: readonly ChunkRecord[]): Promise<void> {
    this.open();
    this.check.addChunks(records);
    for (let i = 0; i < records.length; i += this.batchChunks) {
      const batch = records.slice(i, i + this.batchChunks);
      const ords = batch.map(() => this.nextChunk++);
      await this.pool.query(
        'INSERT INTO chunks (generation_id, ord, chunk_id, doc_id, town, role, years, token_count, chunk, embedding) ' +
          'SELECT $1, o, i, d, t, r, y::integer[], n, c, e::vector FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::integer[], $9::json[], $10::text[]) AS u(o, i, d, t, r, y, n, c, e)',
        [
          this.generationId,
          ords,
          batch.map((r) => r.chunk.id),
          batch.map((r) => r.chunk.docId),
          batch.map((r) => r.chunk.town),
          batch.map((r) => r.chunk.role),
          batch.map((r) => yearsLiteral(r.chunk.years)),
          batch.map((r) => r.tokens.length),
          batch.map((r) => JSON.stringify(r.chunk)),
          batch.map((r) => vectorParam(r.vector)),
        ],
      );
      const sentence = { ord: [] as number[], k: [] as number[], town: [] as string[], role: [] as string[], years: [] as string[], vector: [] as string[] };
      const posting = { term: [] as string[], ord: [] as number[], tf: [] as number[], town: [] as string[], length: [] as number[] };
      batch.forEach((r, j) => {
        r.sentenceVectors.forEach((v, k) => {
          sentence.ord.push(ords[j]!);
          sentence.k.push(k);
          sentence.town.push(r.chunk.town);
          sentence.role.push(r.chunk.role);
          sentence.years.push(yearsLiteral(r.chunk.years));
          sentence.vector.push(vectorParam(v));
        });
        const tf = new Map<string, number>();
        for (const t of r.tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
        for (const [term, count] of tf) {
          posting.term.push(term);
          posting.ord.push(ords[j]!);
          posting.tf.push(count);
          posting.town.push(r.chunk.town);
          posting.length.push(r.tokens.length);
          this.df.set(term, (this.df.get(term) ?? 0) + 1);
        }
        this.tokenTotal += r.tokens.length;
      });
      if (sentence.ord.length > 0) {
        await this.pool.query(
          'INSERT INTO sentences (generation_id, chunk_ord, k, town, role, years, embedding) ' +
            'SELECT $1, o, k, t, r, y::integer[], e::vector FROM unnest($2::integer[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[]) AS u(o, k, t, r, y, e)',
          [this.generationId, sentence.ord, sentence.k, sentence.town, sentence.role, sentence.years, sentence.vector],
        );
      }
      if (posting.term.length > 0) {
        await this.pool.query(
          'INSERT INTO postings (generation_id, term, chunk_ord, tf, town, token_count) SELECT $1, * FROM unnest($2::text[], $3::integer[], $4::integer[], $5::text[], $6::integer[])',
          [this.generationId, posting.term, posting.ord, posting.tf, posting.town, posting.length],
        );
      }
    }
  }

  async writeLexicon(terms: readonly string[]): Promise<void> {
    this.open();
    await this.pool.query('UPDATE generations SET lexicon = $2::json WHERE id = $1', [this.generationId, JSON.stringify(terms)]);
  }

  async writeDerived(records: readonly DerivedRecord[]): Promise<void> {
    this.open();
    for (let i = 0; i < records.length; i += 500) {
      const batch = records.slice(i, i + 500);
      // The last value of a key written twice in one batch wins, as the file store's map.
      const unique = new Map(batch.map((r) => [JSON.stringify([r.kind, r.key]), r]));
      const list = [...unique.values()];
      await this.pool.query(
        'INSERT INTO derived_records (generation_id, kind, key, seq, value) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::json[]) ' +
          'ON CONFLICT (generation_id, kind, key) DO UPDATE SET value = EXCLUDED.value',
        [this.generationId, list.map((r) => r.kind), list.map((r) => r.key), list.map(() => this.nextDerived++), list.map((r) => JSON.stringify(r.value ?? null))],
      );
    }
  }

  async publish(): Promise<GenerationInfo> {
    this.open();
    try {
      this.check.finish();
    } catch (error) {
      await this.abort();
      throw error;
    }
    const terms = [...this.df];
    for (let i = 0; i < terms.length; i += 5000) {
      const batch = terms.slice(i, i + 5000);
      await this.pool.query('INSERT INTO terms (generation_id, term, df) SELECT $1, * FROM unnest($2::text[], $3::integer[])', [this.generationId, batch.map((t) => t[0]), batch.map((t) => t[1])]);
    }
    // Fresh statistics before anyone reads the generation: the planner picks the town and term
    // indexes by them, and autovacuum (where it runs at all) would only catch up later. The
    // postings are vacuumed too, so that a keyword search reads them from the index alone (an
    // index-only scan needs the visibility map vacuum sets: 26 → 6 ms for a question's postings
    // at 500 reports on PGlite).
    await this.pool.query('VACUUM (ANALYZE) postings');
    await this.pool.query('ANALYZE chunks, sentences, terms, derived_records');
    const counts = { documents: this.check.documents, chunks: this.check.chunks, sentences: this.check.sentences };
    // The file store's averageLength: total tokens over chunks, in double precision.
    const averageLength = counts.chunks ? this.tokenTotal / counts.chunks : 0;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const stored = await countRows(client, this.generationId);
      if (stored.documents !== counts.documents || stored.chunks !== counts.chunks || stored.sentences !== counts.sentences) {
        throw new AppError('E_INDEX_CORRUPT', `store: generation refused: the database holds ${JSON.stringify(stored)} rows, the writer wrote ${JSON.stringify(counts)}`);
      }
      const updated = await client.query(
        "UPDATE generations SET state = 'ready', counts = $2::json, average_length = $3, published_at = clock_timestamp() WHERE id = $1 AND state = 'writing'",
        [this.generationId, JSON.stringify(counts), averageLength],
      );
      // Another writer took this one for dead and deleted it.
      if (updated.rowCount !== 1) throw new AppError('E_BUSY', `store: generation ${this.id} was removed while being written (its writer was taken for dead); run again`);
      await client.query(
        'INSERT INTO published_generation (only_row, generation_id) VALUES (true, $1) ON CONFLICT (only_row) DO UPDATE SET generation_id = EXCLUDED.generation_id',
        [this.generationId],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
      await this.abort();
      throw error;
    }
    client.release();
    this.finishWriting();
    // The published one and the one before it stay (a reader may have pinned it just before the switch).
    await this.pool.query(
      "DELETE FROM generations WHERE state = 'ready' AND id NOT IN (SELECT id FROM generations WHERE published_at IS NOT NULL AND state = 'ready' ORDER BY published_at DESC, id DESC LIMIT 2) " +
        'AND id NOT IN (SELECT generation_id FROM published_generation)',
    );
    const meta = { ...this.meta };
    return {
      id: this.id,
      createdAt: this.createdAt,
      formatVersion: INDEX_FORMAT_VERSION,
      embeddingModel: meta.embeddingModel,
      dimension: meta.dimension,
      pipelineVersion: meta.pipelineVersion,
      files: meta.files ?? {},
      ...counts,
    };
  }

  private finishWriting(): void {
    this.done = true;
    clearInterval(this.heartbeat);
  }

  async abort(): Promise<void> {
    this.finishWriting();
    await this.pool.query("DELETE FROM generations WHERE id = $1 AND state = 'writing'", [this.generationId]);
  }
}

async function countRows(db: Queryable, generationId: string): Promise<{ documents: number; chunks: number; sentences: number }> {
  const r = await db.query<{ documents: string; chunks: string; sentences: string }>(
    'SELECT (SELECT count(*) FROM documents WHERE generation_id = $1) AS documents, (SELECT count(*) FROM chunks WHERE generation_id = $1) AS chunks, ' +
      '(SELECT count(*) FROM sentences WHERE generation_id = $1) AS sentences',
    [generationId],
  );
  const row = r.rows[0]!;
  return { documents: Number(row.documents), chunks: Number(row.chunks), sentences: Number(row.sentences) };
}

/** Opens the PostgreSQL store (the schema must be migrated: npm run db:migrate). */
export function createPostgresStore(options: PostgresStoreOptions): IndexStore {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 4,
    async onConnect(client) {
      // iterative_scan: under a role or year filter, HNSW keeps walking until k rows pass (pgvector ≥ 0.8).
      await client.query(`SET hnsw.ef_search = ${EF_SEARCH}; SET hnsw.iterative_scan = strict_order`);
    },
  });
  // An idle client's connection dropping must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const leaseMs = options.writerLeaseMs ?? 30_000;
  let cached: { generationId: string; snapshot: Promise<IndexSnapshot> } | undefined;
  let schemaChecked: Promise<void> | undefined;
  const stops = new Set<() => void>();

  const checkSchema = (): Promise<void> =>
    (schemaChecked ??= (async () => {
      const have = await schemaVersion(pool);
      const want = listMigrations().length;
      if (have < want) {
        schemaChecked = undefined;
        throw new AppError('E_INDEX_MISSING', `store: the database schema is at version ${have}, this code needs ${want}; run \`npm run db:migrate\``);
      }
    })());

  const openSnapshot = async (row: GenerationRow): Promise<IndexSnapshot> => {
    if (row.meta.formatVersion !== INDEX_FORMAT_VERSION) {
      throw new AppError('E_INDEX_MISMATCH', `index: format version ${row.meta.formatVersion}, this code reads ${INDEX_FORMAT_VERSION}; run \`npm run ingest -- --full\` with INDEX_STORE=postgres`);
    }
    if (row.meta.embeddingModel !== options.embeddingModel || row.meta.dimension !== options.dimension) {
      throw new AppError(
        'E_INDEX_MISMATCH',
        `index: built with ${row.meta.embeddingModel} (${row.meta.dimension}d) but EMBEDDING_MODEL is ${options.embeddingModel} (${options.dimension}d); run \`npm run ingest -- --full\` with INDEX_STORE=postgres`,
      );
    }
    // Rows removed or added behind the store's back (a damaged restore, a manual DELETE) are refused.
    const stored = await countRows(pool, row.id);
    const counts = row.counts;
    if (!counts || stored.documents !== counts.documents || stored.chunks !== counts.chunks || stored.sentences !== counts.sentences) {
      throw new AppError('E_INDEX_CORRUPT', `index: generation ${row.name} holds ${JSON.stringify(stored)} rows, it was written with ${JSON.stringify(counts)}; run \`npm run ingest -- --full\` with INDEX_STORE=postgres`);
    }
    return new PostgresSnapshot(pool, row);
  };

  const published = async (): Promise<GenerationRow | undefined> => {
    await checkSchema();
    const r = await pool.query<GenerationRow>(
      'SELECT g.id, g.name, g.meta, g.counts, g.lexicon, g.average_length FROM published_generation p JOIN generations g ON g.id = p.generation_id',
    );
    return r.rows[0];
  };

  return {
    kind: 'postgres',
    async publishedGeneration() {
      return (await published())?.name;
    },
    async snapshot() {
      const row = await published();
      if (!row) throw new AppError('E_INDEX_MISSING', 'index: no generation is published in the database; run `npm run ingest` with INDEX_STORE=postgres (or `npm run db:import` of a built file index)');
      if (!cached || cached.generationId !== row.id) {
        const snapshot = openSnapshot(row);
        cached = { generationId: row.id, snapshot };
        snapshot.catch(() => {
          if (cached?.snapshot === snapshot) cached = undefined;
        });
      }
      return cached.snapshot;
    },
    async beginGeneration(meta) {
      await checkSchema();
      const id = checkGenerationId(meta.id ?? newGenerationId());
      const client = await pool.connect();
      let generationId: string;
      const createdAt = new Date().toISOString();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1)', [WRITER_LOCK]);
        const writers = await client.query<{ id: string; name: string; writer_pid: number | null; writer_host: string | null; age_ms: number }>(
          "SELECT id, name, writer_pid, writer_host, (extract(epoch FROM now() - heartbeat) * 1000)::float8 AS age_ms FROM generations WHERE state = 'writing'",
        );
        for (const w of writers.rows) {
          const alive = w.age_ms < leaseMs && w.writer_pid !== null && isProcessAlive(w.writer_pid, w.writer_host ?? '', w.age_ms, leaseMs);
          if (alive) throw new AppError('E_BUSY', `store: another writer (pid ${w.writer_pid} on ${w.writer_host}) is writing generation ${w.name}; run again when it has finished`);
          // A writer that died: its partial rows go.
          await client.query('DELETE FROM generations WHERE id = $1', [w.id]);
        }
        const same = await client.query<{ id: string; published: boolean }>(
          'SELECT g.id, EXISTS (SELECT 1 FROM published_generation p WHERE p.generation_id = g.id) AS published FROM generations g WHERE g.name = $1',
          [id],
        );
        if (same.rows[0]?.published) throw new AppError('E_CONFLICT', `store: generation ${id} is the published one already`);
        if (same.rows[0]) await client.query('DELETE FROM generations WHERE id = $1', [same.rows[0].id]);
        const fullMeta = { ...meta, id, formatVersion: INDEX_FORMAT_VERSION, createdAt };
        const inserted = await client.query<{ id: string }>(
          "INSERT INTO generations (name, state, meta, writer_pid, writer_host) VALUES ($1, 'writing', $2::json, $3, $4) RETURNING id",
          [id, JSON.stringify(fullMeta), process.pid, os.hostname()],
        );
        generationId = inserted.rows[0]!.id;
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
      return new PostgresGenerationWriter(pool, generationId, id, meta, options.batchChunks ?? 100, leaseMs, createdAt);
    },
    watch(listener: (generationId: string) => void, watchOptions?: WatchOptions) {
      const stop = pollGeneration(async () => (await published())?.name, listener, watchOptions);
      stops.add(stop);
      return () => {
        stop();
        stops.delete(stop);
      };
    },
    async close() {
      for (const stop of stops) stop();
      stops.clear();
      cached = undefined;
      await pool.end();
    },
  };
}
