/**
 * Loading a new generation while serving (issue 13: a reindex must not stall the event loop):
 * openIndex gives what loadIndex gives, with the event loop running between its steps, and
 * prepareTokenizer, which loads jieba's dictionary a slice at a time, gives the tokenizer
 * createTokenizer builds in one go. How long each step holds the loop is measured in
 * docs/benchmarks.md, not asserted here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { currentGeneration, loadIndex, openIndex, readManifest } from '../../src/index/store.js';
import { createTokenizer, prepareTokenizer } from '../../src/text/tokenize.js';
import { testIndexDir } from '../services.js';

const expectations = () => {
  const manifest = readManifest(testIndexDir())!;
  return { embeddingModel: manifest.embeddingModel, dimension: manifest.dimension };
};

describe('openIndex', () => {
  it('loads what loadIndex loads, the graph included', async () => {
    const dir = testIndexDir();
    const sync = loadIndex(dir, expectations());
    const opened = await openIndex(dir, expectations());
    const { vectors: a, ...syncData } = sync;
    const { vectors: b, ...openedData } = opened;
    expect(openedData).toEqual(syncData);
    expect(b.size).toBe(a.size);
    // The same graph: the same neighbours for a few chunks' own vectors.
    for (const row of [0, Math.floor(sync.chunks.length / 2), sync.chunks.length - 1]) {
      expect(b.search(sync.embeddings[row]!, 8)).toEqual(a.search(sync.embeddings[row]!, 8));
    }
  });

  it('lets the event loop run between every two steps', async () => {
    let ticks = 0;
    let spinning = true;
    const spin = (): void => {
      ticks++;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const seen: Array<{ step: string; ticks: number }> = [];
    try {
      await openIndex(testIndexDir(), expectations(), (step) => seen.push({ step, ticks }));
    } finally {
      spinning = false;
    }
    const generation = fs.readdirSync(path.join(testIndexDir(), currentGeneration(testIndexDir())!));
    // One step per file of the generation, at least; each began after other callbacks had run.
    expect(seen.length).toBeGreaterThan(generation.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.ticks, `before "${seen[i]!.step}"`).toBeGreaterThan(seen[i - 1]!.ticks);
  });

  it('reports a missing index as loadIndex does', async () => {
    const empty = fs.mkdtempSync(path.join(testIndexDir(), '..', 'swap-empty-'));
    try {
      const error = (() => {
        try {
          loadIndex(empty, expectations());
        } catch (err) {
          return err;
        }
      })();
      await expect(openIndex(empty, expectations())).rejects.toEqual(error);
      expect(error).toMatchObject({ code: 'E_INDEX_MISSING' });
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('prepareTokenizer', () => {
  it('tokenizes every sentence of the corpus as createTokenizer does, and createTokenizer then returns it', async () => {
    const index = loadIndex(testIndexDir(), expectations());
    // A lexicon no other test uses, so neither tokenizer comes from the tokenizers in use.
    const lexicon = [...index.lexicon, '民生实事项目'];
    const prepared = await prepareTokenizer(lexicon);
    expect(createTokenizer(lexicon)).toBe(prepared);
    // A fresh copy of the module knows no tokenizer: this one is built in one go.
    vi.resetModules();
    const fresh = (await import('../../src/text/tokenize.js')) as typeof import('../../src/text/tokenize.js');
    const built = fresh.createTokenizer(lexicon);
    expect(built).not.toBe(prepared);
    const texts = index.chunks.flatMap((c) => c.sentences.map(([s, e]) => index.documents.find((d) => d.meta.docId === c.docId)!.text.slice(s, e)));
    expect(texts.length).toBe(index.sentenceEmbeddings.length);
    const differing = texts.filter((t) => JSON.stringify(prepared.tokenize(t)) !== JSON.stringify(built.tokenize(t)));
    expect(differing).toEqual([]);
    // Not vacuous: the corpus terms stay whole in both.
    const town = index.documents[0]!.meta.town;
    expect(texts.some((t) => prepared.tokenize(t).includes(town))).toBe(true);
  });
});

describe('prepareQuestionReader', () => {
  it('gives annotateQuestion the IDF table it would build on first use', async () => {
    const questions = ['张家镇去年新建了多少个游泳馆?', '梅李镇2023年计划完成多少公里农村公路提档升级?', '护照办理的时候需要什么?', '牛塘镇上半年申报了多少家国家高新技术企业?'];
    const segmenter = createTokenizer(['梅李镇', '牛塘镇']).segmenter;
    const context = { knownTowns: ['梅李镇', '牛塘镇'], segmenter };
    vi.resetModules();
    const lazy = await import('../../src/annotate/question.js');
    const onFirstUse = questions.map((q) => lazy.annotateQuestion(q, context));
    vi.resetModules();
    const prepared = await import('../../src/annotate/question.js');
    await prepared.prepareQuestionReader();
    expect(questions.map((q) => prepared.annotateQuestion(q, context))).toEqual(onFirstUse);
    // And the same IDF table: 游泳馆 is specific, 时候 is not.
    const topics = (q: typeof lazy) => q.topicsOf('游泳馆 时候 农村公路', segmenter);
    expect(topics(prepared)).toEqual(topics(lazy));
    expect(topics(prepared).length).toBeGreaterThan(1);
  });
});
