/** Commitment routing: list and outcome questions go to the book (the asked town's records, read on first need), others to retrieval. */
import { beforeAll, describe, expect, it } from 'vitest';
import { commitmentBookReader, TOWN_BOOK_KIND, type CommitmentBookReader } from '../../src/commitments/book.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import type { IndexSnapshot } from '../../src/store/index-store.js';
import { loadIndex } from '../../src/index/store.js';
import { routeToCommitments } from '../../src/qa/commitment-routing.js';
import type { QaService } from '../../src/qa/types.js';
import { openTestService, testIndexDir } from '../services.js';

let service: QaService;
/** Towns whose records were read, in order. */
const townsRead: string[] = [];
let book: CommitmentBookReader;

beforeAll(async () => {
  const { embedder } = await openTestService();
  ({ service } = await openTestService());
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  const snapshot = snapshotOfLoadedIndex(index);
  const recording: IndexSnapshot = Object.create(snapshot, {
    getDerived: {
      value: (kind: string, keys?: readonly string[]) => {
        if (kind === TOWN_BOOK_KIND) townsRead.push(...(keys ?? ['(every town)']));
        return snapshot.getDerived(kind, keys);
      },
    },
  });
  book = commitmentBookReader(recording);
});

describe('routeToCommitments', () => {
  it('leaves a question for a figure to retrieval, without reading the book', async () => {
    expect(await routeToCommitments('梅李镇现阶段有多少个三级网格?', undefined, book, service.index)).toBeUndefined();
    expect(townsRead).toEqual([]);
  });

  it('answers a question for a list of promises from the book, each with its citation', async () => {
    const answer = await routeToCommitments('梅李镇2023年在民生方面有哪些承诺?', undefined, book, service.index);
    expect(answer).toBeDefined();
    expect(answer!.citations.length).toBeGreaterThan(0);
    expect(answer!.citations.every((c) => c.town === '梅李镇')).toBe(true);
    expect(answer!.answer).toMatch(/\[1\]/);
    expect(townsRead).toEqual(['梅李镇']);
  });

  it("answers a question about a promise's outcome from the book, reading that town's records once", async () => {
    const answer = await routeToCommitments('淀山湖镇2020年的地区生产总值目标完成了吗?', undefined, book, service.index);
    expect(answer).toBeDefined();
    expect(answer!.citations.some((c) => c.town === '淀山湖镇')).toBe(true);
    await routeToCommitments('淀山湖镇2021年有哪些承诺?', undefined, book, service.index);
    await routeToCommitments('梅李镇2023年在民生方面有哪些承诺?', undefined, book, service.index);
    expect(townsRead).toEqual(['梅李镇', '淀山湖镇']);
  });
});
