/**
 * The commitment book as a service reads it (commitmentBookReader): by town, from the records
 * ingest stored for the shipped corpus, so that a replica holds the towns it is asked about and
 * not the whole corpus' book.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { BOOK_KIND, COMMITMENTS_KIND, commitmentBookReader, readCommitmentBook, RESULTS_KIND, TOWN_BOOK_KIND, type CommitmentBook } from '../../src/commitments/book.js';
import { answerCommitmentQuestion } from '../../src/commitments/answer.js';
import { docIdOfRecord } from '../../src/commitments/extract.js';
import { openIndexContext } from '../../src/retrieve/context.js';
import { loadIndex, type LoadedIndex } from '../../src/index/store.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import type { IndexSnapshot } from '../../src/store/index-store.js';
import { openTestService, testIndexDir } from '../services.js';

let index: LoadedIndex;
let whole: CommitmentBook;

/** The index's snapshot, recording which derived records are read (kind and the keys asked for; all: undefined). */
function recordingSnapshot(source: LoadedIndex = index, fail?: () => boolean) {
  const snapshot = snapshotOfLoadedIndex(source);
  const reads: Array<{ kind: string; keys: readonly string[] | undefined }> = [];
  const recording: IndexSnapshot = Object.create(snapshot, {
    getDerived: {
      value: (kind: string, keys?: readonly string[]) => {
        reads.push({ kind, keys });
        if (fail?.()) return Promise.reject(new Error('the store is down'));
        return snapshot.getDerived(kind, keys);
      },
    },
  });
  return { snapshot: recording, reads };
}

/** What a book holds, comparable with toEqual. */
const contentOf = (book: CommitmentBook) => ({ commitments: book.commitments, results: book.results, followUps: [...book.followUps], towns: book.towns });

beforeAll(async () => {
  const { embedder } = await openTestService();
  index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  whole = await readCommitmentBook(snapshotOfLoadedIndex(index));
});

describe('commitmentBookReader', () => {
  it("gives each town's commitments, results and follow-ups exactly as the whole book has them, in document order", async () => {
    expect(whole.towns.length).toBeGreaterThanOrEqual(4);
    const read = commitmentBookReader(snapshotOfLoadedIndex(index));
    for (const town of whole.towns) {
      const book = await read([town]);
      const commitments = whole.commitments.filter((c) => c.town === town);
      expect(commitments.length).toBeGreaterThan(0);
      expect(contentOf(book)).toEqual({
        commitments,
        results: whole.results.filter((r) => r.town === town),
        followUps: commitments.map((c) => [c.id, whole.followUps.get(c.id)]),
        towns: [town],
      });
    }
    const [first, second] = whole.towns as [string, string];
    // Two towns asked in either order come back in the corpus' order; no town asked: the whole book.
    expect((await read([second, first])).commitments).toEqual(whole.commitments.filter((c) => c.town === first || c.town === second));
    expect(contentOf(await read())).toEqual(contentOf(whole));
    expect((await read(['周庄镇'])).commitments).toEqual([]);
  });

  it("reads only the asked town's records, and keeps them for the next question", async () => {
    const { snapshot, reads } = recordingSnapshot();
    const read = commitmentBookReader(snapshot);
    const town = whole.towns[1]!;
    await read([town]);
    expect(reads.find((r) => r.kind === TOWN_BOOK_KIND)?.keys).toEqual([town]);
    const commitmentKeys = reads.filter((r) => r.kind === COMMITMENTS_KIND).flatMap((r) => r.keys ?? ['(every record)']);
    expect(commitmentKeys.length).toBe(whole.commitments.filter((c) => c.town === town).length);
    expect(commitmentKeys.every((id) => index.documents.find((d) => d.meta.docId === docIdOfRecord(id))?.meta.town === town)).toBe(true);
    expect(reads.filter((r) => r.kind === RESULTS_KIND).every((r) => r.keys !== undefined)).toBe(true);
    const count = reads.length;
    await read([town]);
    expect(reads.length).toBe(count);
  });

  it('reads the towns of one call together: their ids, their commitments and their results, three reads however many towns', async () => {
    const { snapshot, reads } = recordingSnapshot();
    const read = commitmentBookReader(snapshot);
    const [a, b, ...rest] = whole.towns as [string, string, ...string[]];
    await read([a]);
    reads.length = 0;
    // a is kept: only the others are read, in one go.
    expect(contentOf(await read())).toEqual(contentOf(whole));
    expect(reads.map((r) => r.kind)).toEqual([TOWN_BOOK_KIND, COMMITMENTS_KIND, RESULTS_KIND]);
    expect(reads[0]!.keys).toEqual([b, ...rest]);
    // Two calls at once share the read of a town neither holds.
    const fresh = recordingSnapshot();
    const twice = commitmentBookReader(fresh.snapshot);
    const [one, two] = await Promise.all([twice([b]), twice([b, a])]);
    expect(one.commitments).toEqual(whole.commitments.filter((c) => c.town === b));
    expect(two.commitments).toEqual(whole.commitments.filter((c) => c.town === a || c.town === b));
    expect(fresh.reads.filter((r) => r.kind === TOWN_BOOK_KIND).map((r) => r.keys)).toEqual([[b], [a]]);
  });

  it('lets the least recently used town go when the next one does not fit, and reads it again when asked', async () => {
    const { snapshot, reads } = recordingSnapshot();
    const [a, b] = whole.towns as [string, string];
    const size = (town: string) => whole.commitments.filter((c) => c.town === town).length + whole.results.filter((r) => r.town === town).length + 1;
    // Room for either town, not both.
    const read = commitmentBookReader(snapshot, Math.max(size(a), size(b)));
    const readsOf = (town: string) => reads.filter((r) => r.kind === TOWN_BOOK_KIND && r.keys?.[0] === town).length;
    await read([a]);
    await read([a]);
    expect(readsOf(a)).toBe(1);
    await read([b]);
    await read([a]);
    expect(readsOf(a)).toBe(2);
    expect(readsOf(b)).toBe(1);
  });

  it('reads again after a failed read, rather than keeping the failure', async () => {
    let failures = 1;
    const { snapshot } = recordingSnapshot(index, () => failures-- > 0);
    const read = commitmentBookReader(snapshot);
    await expect(read([whole.towns[0]!])).rejects.toThrow('the store is down');
    expect((await read([whole.towns[0]!])).commitments.length).toBeGreaterThan(0);
  });

  it("is refused, with what to run, by an index whose book lists no towns (written before it did), or that lost a town's record", async () => {
    const summary = index.derived.find((r) => r.kind === BOOK_KIND)!;
    const older = { ...index, derived: index.derived.filter((r) => r.kind !== TOWN_BOOK_KIND).map((r) => (r === summary ? { ...r, value: { ...(r.value as object), towns: undefined } } : r)) };
    await expect(commitmentBookReader(snapshotOfLoadedIndex(older))([whole.towns[0]!])).rejects.toMatchObject({ code: 'E_INDEX_MISMATCH', message: expect.stringContaining('npm run ingest') });
    await expect(readCommitmentBook(snapshotOfLoadedIndex(older))).rejects.toMatchObject({ code: 'E_INDEX_MISMATCH' });
    const town = whole.towns[0]!;
    const lost = whole.commitments.find((c) => c.town === town)!.id;
    const partial = { ...index, derived: index.derived.filter((r) => !(r.kind === COMMITMENTS_KIND && r.key === lost)) };
    await expect(commitmentBookReader(snapshotOfLoadedIndex(partial))([town])).rejects.toMatchObject({ code: 'E_INDEX_CORRUPT', message: expect.stringContaining(town) });
  });
});

describe('answering from the book by town', () => {
  it('reads the named town for a list question, every town when none is named, and leaves a town-less question over a corpus of many towns to retrieval', async () => {
    const context = await openIndexContext(snapshotOfLoadedIndex(index));
    const asked: Array<readonly string[] | undefined> = [];
    const read = commitmentBookReader(context.snapshot);
    const book = (towns?: readonly string[]) => (asked.push(towns), read(towns));
    const source = { towns: context.towns, tokenizer: context.tokenizer, snapshot: context.snapshot, documents: context.documents };
    const named = await answerCommitmentQuestion('梅李镇2023年有哪些承诺?', book, source);
    expect(named?.citations.every((c) => c.town === '梅李镇')).toBe(true);
    const unnamed = await answerCommitmentQuestion('2023年有哪些承诺?', book, source);
    expect(unnamed?.citations.length).toBeGreaterThan(0);
    expect(asked).toEqual([['梅李镇'], undefined]);
    // The same question over a corpus of 21 towns: no list of every town's promises, no read.
    const many = { ...source, towns: [...context.towns, ...Array.from({ length: 21 - context.towns.length }, (_, i) => `合成${i}镇`)] };
    expect(await answerCommitmentQuestion('2023年有哪些承诺?', book, many)).toBeUndefined();
    expect(asked.length).toBe(2);
    expect((await answerCommitmentQuestion('梅李镇2023年有哪些承诺?', book, many))?.answer).toBe(named?.answer);
  });
});
