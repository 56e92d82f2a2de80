/** Commitment routing: list and outcome questions go to the book (read once, on first need), others to retrieval. */
import { beforeAll, describe, expect, it } from 'vitest';
import { readCommitmentBook, type CommitmentBook } from '../../src/commitments/book.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import type { IndexSnapshot } from '../../src/store/index-store.js';
import { loadIndex } from '../../src/index/store.js';
import { holdCommitmentBook, routeToCommitments } from '../../src/qa/commitment-routing.js';
import type { QaService } from '../../src/qa/types.js';
import { openTestService, testIndexDir } from '../services.js';

let service: QaService;
let builds = 0;
let snapshot: IndexSnapshot;
let book: () => Promise<CommitmentBook>;

beforeAll(async () => {
  const { embedder } = await openTestService();
  ({ service } = await openTestService());
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  book = ((snapshot = snapshotOfLoadedIndex(index)), holdCommitmentBook(() => (builds++, readCommitmentBook(snapshot))));
});

describe('routeToCommitments', () => {
  it('leaves a question for a figure to retrieval, without reading the book', async () => {
    expect(await routeToCommitments('梅李镇现阶段有多少个三级网格?', undefined, book, service.index)).toBeUndefined();
    expect(builds).toBe(0);
  });

  it('answers a question for a list of promises from the book, each with its citation', async () => {
    const answer = await routeToCommitments('梅李镇2023年在民生方面有哪些承诺?', undefined, book, service.index);
    expect(answer).toBeDefined();
    expect(answer!.citations.length).toBeGreaterThan(0);
    expect(answer!.citations.every((c) => c.town === '梅李镇')).toBe(true);
    expect(answer!.answer).toMatch(/\[1\]/);
    expect(builds).toBe(1);
  });

  it("answers a question about a promise's outcome from the book, read once for all questions", async () => {
    const answer = await routeToCommitments('淀山湖镇2020年的地区生产总值目标完成了吗?', undefined, book, service.index);
    expect(answer).toBeDefined();
    expect(answer!.citations.some((c) => c.town === '淀山湖镇')).toBe(true);
    expect(builds).toBe(1);
  });
});

describe('holdCommitmentBook', () => {
  it('keeps a read book and reads again after a failed read', async () => {
    const real = await book();
    let calls = 0;
    const held = holdCommitmentBook(async () => {
      calls++;
      if (calls === 1) throw new Error('first build fails');
      return real;
    });
    await expect(held()).rejects.toThrow('first build fails');
    expect(await held()).toBe(real);
    expect(await held()).toBe(real);
    expect(calls).toBe(2);
  });
});
