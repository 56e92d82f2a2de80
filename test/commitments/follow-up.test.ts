/**
 * Follow-up over a fixture corpus: the shipped 牛塘镇 2022 mid-year report plus a FICTIONAL later
 * report written for this test (test/fixtures/commitments/later-report, its README lists what it
 * reports by design), indexed with the real model. Each status must come out right, citing the
 * right sentence of the later report.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { answerCommitmentQuestion } from '../../src/commitments/answer.js';
import { readCommitmentBook, type CommitmentBook } from '../../src/commitments/book.js';
import type { Commitment, FollowUp } from '../../src/domain/commitment.js';
import type { LoadedIndex } from '../../src/index/store.js';
import { openIndexContext } from '../../src/retrieve/context.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import { freshBookOf } from './fresh-book.js';
import { openTestService } from '../services.js';
import { buildFixtureIndex } from './fixture-index.js';

const MIDYEAR = 'niutang-2022-midyear-report';
const FICTIONAL = 'niutang-2023-fictional-report';

let index: LoadedIndex;
let book: CommitmentBook;

beforeAll(async () => {
  const { embedder } = await openTestService();
  index = await buildFixtureIndex(embedder);
  // The book ingest stored with the fixture index.
  book = await readCommitmentBook(snapshotOfLoadedIndex(index));
});

describe('the stored book of the fixture index', () => {
  it('equals the book computed afresh from the same index', async () => {
    const { embedder } = await openTestService();
    const fresh = await freshBookOf(index, embedder);
    expect(book.followUps.size).toBe(book.commitments.length);
    // Evidence of every status is there to compare (the fictional later report).
    expect(new Set([...book.followUps.values()].map((f) => f.status))).toEqual(new Set(['met', 'partly', 'not-reported', 'no-later-report']));
    expect(JSON.parse(JSON.stringify(fresh))).toEqual({ commitments: book.commitments, results: book.results, followUps: [...book.followUps] });
  });
});

function promise(docId: string, clauseStart: string): { c: Commitment; f: FollowUp } {
  const c = book.commitments.find((x) => x.docId === docId && x.clause.startsWith(clauseStart));
  if (!c) throw new Error(`no commitment starting ${clauseStart}`);
  return { c, f: book.followUps.get(c.id)! };
}

/** The sentence of the fictional report that evidence must cite, located in its cleaned text. */
function citesSentenceWith(f: FollowUp, words: string): void {
  const e = f.evidence[0]!;
  expect(e.result.docId).toBe(FICTIONAL);
  expect(e.result.role).toBe('review');
  const text = index.documents.find((d) => d.meta.docId === FICTIONAL)!.text;
  expect(text.slice(e.result.sentenceStart, e.result.sentenceEnd)).toBe(e.result.sentence);
  expect(text.slice(e.result.start, e.result.end)).toBe(e.result.clause);
  expect(e.result.sentence).toContain(words);
}

describe('follow-up of commitments against a later report (fictional fixture)', () => {
  it('is met when the later report gives the figure of the target (1364套)', () => {
    const { f } = promise(MIDYEAR, '年内完成1364套安置房');
    expect(f.status).toBe('met');
    citesSentenceWith(f, '共完成1364套安置房');
    expect(f.evidence[0]!.checks).toEqual([expect.objectContaining({ reached: true, achieved: expect.objectContaining({ value: 1364, unit: '套' }) })]);
  });

  it('is met when every figure reaches its own target, each compared with the matching one', () => {
    const { f } = promise(MIDYEAR, '实现企业三星上云7家');
    expect(f.status).toBe('met');
    citesSentenceWith(f, '三星上云9家');
    expect(f.evidence[0]!.checks.map((k) => [k.target.text, k.achieved?.text])).toEqual([
      ['7家', '9家'],
      ['1家', '1家'],
      ['1家', '1家'],
    ]);
  });

  it('is met when a target is exceeded (9处 → 11处)', () => {
    const { f } = promise(MIDYEAR, '完成卢西村、白家社区等9处');
    expect(f.status).toBe('met');
    citesSentenceWith(f, '11处全民健身步道');
  });

  it('is met on an explicit statement of completion when the promise has no figure', () => {
    const hospital = promise(MIDYEAR, '完成镇卫生院病房改造项目').f;
    expect(hospital.status).toBe('met');
    citesSentenceWith(hospital, '镇卫生院病房改造项目已完成并投入使用');
    const diagnosis = promise(MIDYEAR, '完成全镇规上企业系统诊断').f;
    expect(diagnosis.status).toBe('met');
    citesSentenceWith(diagnosis, '完成全镇规上企业系统诊断');
  });

  it('is partly when the reported figure falls short of the target (35条 → 23条)', () => {
    const { f } = promise(MIDYEAR, '继续推进计划内剩余35条小微水体');
    expect(f.status).toBe('partly');
    citesSentenceWith(f, '完成23条小微水体的综合治理');
    expect(f.evidence[0]!.checks[0]).toMatchObject({ reached: false, achieved: expect.objectContaining({ value: 23 }) });
    expect(f.note).toContain('35条');
  });

  it('is partly when one of two figures falls short (6座 installed → 4座)', () => {
    const { f } = promise(MIDYEAR, '加快厚恕桥等6座桥梁');
    expect(f.status).toBe('partly');
    citesSentenceWith(f, '4座桥梁助航设施安装');
  });

  it('is partly when the later report tells of progress but not completion', () => {
    const { f } = promise(MIDYEAR, '稳步推进东龙实验学校建设');
    expect(f.status).toBe('partly');
    citesSentenceWith(f, '东龙实验学校建设稳步推进');
  });

  it('is not-reported when the later report leaves it out', () => {
    for (const start of ['顺利完成牛塘初级中学整体迁移', '组织开展“强国复兴有我”']) {
      const { f } = promise(MIDYEAR, start);
      expect(f.status, start).toBe('not-reported');
      expect(f.evidence).toEqual([]);
      expect(f.laterDocIds).toEqual([FICTIONAL]);
    }
  });

  it('is no-later-report for the later report’s own promises', () => {
    const own = book.commitments.filter((c) => c.docId === FICTIONAL);
    expect(own.length).toBeGreaterThan(0);
    for (const c of own) expect(book.followUps.get(c.id)!.status).toBe('no-later-report');
  });

  it('never says met without a reported figure reaching the target or a statement of completion', () => {
    for (const c of book.commitments) {
      const f = book.followUps.get(c.id)!;
      if (f.status !== 'met') continue;
      const checks = f.evidence[0]!.checks.filter((k) => k.achieved);
      const byFigures = c.targets.length > 0 && checks.length === c.targets.length && checks.every((k) => k.reached);
      const byStatement = f.evidence.some((e) => e.result.completed);
      expect(byFigures || byStatement, c.clause).toBe(true);
    }
  });
});

/** What the service hands the commitment answers: towns, the keyword tokenizer and the snapshot. */
async function sourceOf(loaded: LoadedIndex) {
  const context = await openIndexContext(snapshotOfLoadedIndex(loaded));
  return { towns: context.towns, tokenizer: context.tokenizer, snapshot: context.snapshot, documents: context.documents };
}

describe('outcome questions over the fixture corpus', () => {
  it('says what was promised and what the later report says, citing both', async () => {
    const answer = await answerCommitmentQuestion('牛塘镇下半年1364套安置房的初始登记完成了吗?', async () => book, await sourceOf(index));
    expect(answer).toBeDefined();
    expect(answer!.answer).toContain('年内完成1364套安置房的初始登记和分割发证[1]');
    expect(answer!.answer).toContain('共完成1364套安置房的初始登记和分割发证[2]');
    expect(answer!.answer).toContain('已完成');
    expect(answer!.citations.map((c) => [c.n, c.docId, c.role])).toEqual([
      [1, MIDYEAR, 'plan'],
      [2, FICTIONAL, 'review'],
    ]);
  });

  it('says when the later report misses the target', async () => {
    const answer = await answerCommitmentQuestion('牛塘镇计划治理的35条小微水体完成了吗?', async () => book, await sourceOf(index));
    expect(answer!.answer).toContain('部分完成');
    expect(answer!.answer).toContain('23条');
  });
});

describe('follow-up on the shipped corpus', () => {
  it('says no-later-report for every commitment: no town has a later report yet', async () => {
    const { service } = await openTestService();
    const shipped = await service.commitments();
    expect(shipped.commitments.length).toBeGreaterThan(300);
    const statuses = new Set(shipped.commitments.map((c) => shipped.followUps.get(c.id)!.status));
    expect([...statuses]).toEqual(['no-later-report']);
  });
});
