/**
 * One question in order: filters first, then the follow-up made standalone, then the commitment
 * book or retrieval. The real service's context, no model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DECISION_MODEL, DEFAULT_THRESHOLD } from '../../src/answer/decision.js';
import { commitmentBookReader, type CommitmentBookReader } from '../../src/commitments/book.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { loadIndex } from '../../src/index/store.js';
import { askQuestion, prepareQuestion, type QuestionContext } from '../../src/qa/ask.js';
import { coveredYearsOf } from '../../src/qa/filters.js';
import { retrieve } from '../../src/retrieve/hybrid.js';
import { openTestService, testIndexDir } from '../services.js';

let ctx: QuestionContext;
/** Reads of the commitment book. */
let builds = 0;

beforeAll(async () => {
  const { service, embedder } = await openTestService();
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  const context = service.index;
  const read = commitmentBookReader(snapshotOfLoadedIndex(index));
  const book: CommitmentBookReader = (towns) => (builds++, read(towns));
  ctx = {
    index: context,
    embedder,
    defaultTopK: 5,
    compose: { model: DECISION_MODEL, threshold: DEFAULT_THRESHOLD },
    llm: undefined,
    filterScope: { towns: context.towns, years: coveredYearsOf(index.documents.map((d) => d.meta)) },
    rewriteScope: { towns: context.towns, segmenter: context.tokenizer.segmenter, yearsOf: (t) => context.townFacts.get(t)?.coveredYears ?? [], reportYearOf: (t) => context.townFacts.get(t)?.reportYear },
    commitments: book,
  };
});

describe('prepareQuestion', () => {
  it('refuses an unknown filter before anything is searched or built', async () => {
    await expect(prepareQuestion({ question: '梅李镇2023年有哪些承诺?', filters: { town: '周庄镇' } }, ctx)).rejects.toMatchObject({ code: 'E_UNKNOWN_FILTER' });
    expect(builds).toBe(0);
  });

  it('answers a figure question by retrieval, citing the requested number of passages', async () => {
    const prepared = await prepareQuestion({ question: '临湖镇2023年计划新增多少个智改数转项目?', topK: 3 }, ctx);
    expect(prepared.answer.found).toBe(true);
    expect(prepared.answer.citations.length).toBe(3);
    expect(prepared.rewritten).toEqual({});
    expect(builds).toBe(0);
  });

  it("embeds a question once and scores each chunk's sentences once, also when its answer searches the other towns too", async () => {
    const calls = { embedQuery: 0, searchChunks: 0 };
    const scored: string[] = [];
    const { embedder, index } = ctx;
    const snapshot = index.snapshot;
    const counted: QuestionContext = {
      ...ctx,
      embedder: { ...embedder, embedQuery: (text) => ((calls.embedQuery += 1), embedder.embedQuery(text)) },
      index: {
        ...index,
        snapshot: {
          ...snapshot,
          searchChunks: (...args) => ((calls.searchChunks += 1), snapshot.searchChunks(...args)),
          scoreSentences: (vector, ids) => (scored.push(...ids), snapshot.scoreSentences(vector, ids)),
        },
      },
    };
    const question = '临湖镇2023年计划新增多少个智改数转项目?';
    const prepared = await prepareQuestion({ question }, counted);
    expect(calls).toEqual({ embedQuery: 1, searchChunks: 2 });
    expect(new Set(scored).size).toBe(scored.length);
    expect(prepared.answer).toEqual((await prepareQuestion({ question }, ctx)).answer);
  });

  it("gives the other-towns retrieval the same ranking with the first retrieval's sentence scores as without them", async () => {
    const question = '临湖镇2023年计划新增多少个智改数转项目?';
    const first = await retrieve(ctx.index, ctx.embedder, question, { topK: 5 });
    const wider = { topK: 5, useHints: false, queryVector: first.queryVector };
    const reused = await retrieve(ctx.index, ctx.embedder, question, { ...wider, knownSentenceScores: new Map(first.ranked.map((e) => [e.chunk.id, e.sentenceScores])) });
    const fresh = await retrieve(ctx.index, ctx.embedder, question, wider);
    expect(first.ranked.filter((e) => reused.ranked.some((r) => r.chunk.id === e.chunk.id)).length).toBeGreaterThan(0);
    expect(reused.ranked).toEqual(fresh.ranked);
    expect(reused.passages).toEqual(fresh.passages);
  });

  it('searches the standalone rewrite of a follow-up and names it', async () => {
    const prepared = await prepareQuestion({ question: '那下半年呢?', history: [{ question: '牛塘镇2022年上半年完成了多少套安置房的初始登记?', answer: '……' }] }, ctx);
    expect(prepared.question).toMatch(/^牛塘镇2022年下半年/);
    expect(prepared.rewritten).toEqual({ rewrittenQuestion: prepared.question });
  });

  it('routes a question for a list of promises to the commitment book, which no model rephrases', async () => {
    const prepared = await prepareQuestion({ question: '梅李镇2023年在民生方面有哪些承诺?' }, ctx);
    expect(builds).toBe(1);
    expect(prepared.use.llm).toBeUndefined();
    expect(prepared.answer.citations.every((c) => c.town === '梅李镇')).toBe(true);
  });
});

describe('askQuestion', () => {
  it('settles the prepared answer: status, checks off without a model, and its time', async () => {
    const output = await askQuestion({ question: '临湖镇2023年计划新增多少个智改数转项目?' }, ctx);
    expect(output).toMatchObject({ found: true, status: 'answered', mode: 'extractive', checks: { llm: 'off', attempts: [] } });
    expect(output.answer).toContain('40');
    expect(output.tookMs).toBeGreaterThanOrEqual(0);
  });
});
