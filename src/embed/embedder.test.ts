// Runs the real bge-small-zh model (fetched into models/ first if needed, which may use mvn).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { BGE_ZH_QUERY_INSTRUCTION, EMBEDDING_DIMENSION, createEmbedder, type Embedder } from './embedder.js';
import { TransformersEmbeddings } from './langchain-embeddings.js';
import { ensureModel } from './model-fetch.js';
import { DEFAULT_MODEL_ID } from './model-files.js';
import { parseEvalFile } from '../evaluate/metrics.js';

const modelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

const QUESTION = '梅李镇有多少个三级网格';
const RELEVANT = '利用好现阶段20个二级网格、76个三级网格';
const UNRELATED = '加快推进阿姆斯壮科创综合体建设';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
};

let embedder: Embedder;

beforeAll(async () => {
  await ensureModel({ modelDir, modelId: DEFAULT_MODEL_ID, mavenVersions: ['0.36.2'] });
  embedder = await createEmbedder({ modelDir, modelId: DEFAULT_MODEL_ID, batchSize: 8, queryInstruction: false });
}, 120_000);

describe('createEmbedder (real model)', () => {
  it('produces 512-dim unit vectors', async () => {
    expect(embedder.dimension).toBe(EMBEDDING_DIMENSION);
    const [v] = await embedder.embedDocuments([RELEVANT]);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v?.length).toBe(512);
    expect(Math.sqrt(dot(v!, v!))).toBeCloseTo(1, 4);
    const q = await embedder.embedQuery(QUESTION);
    expect(q.length).toBe(512);
    expect(Math.sqrt(dot(q, q))).toBeCloseTo(1, 4);
  });

  it('is deterministic', async () => {
    const a = await embedder.embedQuery(QUESTION);
    const b = await embedder.embedQuery(QUESTION);
    expect(Array.from(a)).toEqual(Array.from(b));
    const [c, d] = await embedder.embedDocuments([RELEVANT, UNRELATED]);
    const [e, f] = await embedder.embedDocuments([RELEVANT, UNRELATED]);
    expect(Array.from(c!)).toEqual(Array.from(e!));
    expect(Array.from(d!)).toEqual(Array.from(f!));
  });

  it('ranks the relevant passage above an unrelated one, with and without the query instruction', async () => {
    const [rel, unrel] = await embedder.embedDocuments([RELEVANT, UNRELATED]);
    const q = await embedder.embedQuery(QUESTION);
    expect(dot(q, rel!)).toBeGreaterThan(dot(q, unrel!) + 0.1);

    const instructed = await createEmbedder({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: true });
    const qi = await instructed.embedQuery(QUESTION);
    expect(dot(qi, rel!)).toBeGreaterThan(dot(qi, unrel!) + 0.1);
    // The instruction is really prefixed: same vector as embedding the prefixed text as a document.
    const [prefixed] = await embedder.embedDocuments([`${BGE_ZH_QUERY_INSTRUCTION}${QUESTION}`]);
    expect(Math.max(...Array.from(qi, (x, i) => Math.abs(x - prefixed![i]!)))).toBeLessThan(1e-6);
  });

  it('gives one-by-one vectors for a batch size of 1, and nearly the same when batching', async () => {
    const texts = [RELEVANT, UNRELATED, QUESTION, '短', '区政府工作报告'.repeat(20)];
    const single = await createEmbedder({ modelDir, modelId: DEFAULT_MODEL_ID, batchSize: 1, queryInstruction: false });
    const oneByOne: Float32Array[] = [];
    for (const t of texts) oneByOne.push(...(await embedder.embedDocuments([t])));

    const viaSingle = await single.embedDocuments(texts);
    const batched = await embedder.embedDocuments(texts);
    for (let i = 0; i < texts.length; i++) {
      const diff = Math.max(...Array.from(viaSingle[i]!, (x, j) => Math.abs(x - oneByOne[i]![j]!)));
      expect(diff).toBeLessThan(1e-4);
      // The onnx quantizes activations dynamically with one scale per tensor, so a text's vector
      // depends slightly on its batch partners (measured: cosine >= 0.99, max |diff| ~0.02).
      expect(dot(batched[i]!, oneByOne[i]!)).toBeGreaterThan(0.98);
    }
  });

  it("gives bit for bit the vectors of Transformers.js' feature-extraction pipeline (cls, normalize)", async () => {
    // The pipeline the embedder ran before it loaded only the tokenizer and its own session: every
    // index built with it stays valid only if nothing changed, padding and truncation included.
    const { env, pipeline } = await import('@xenova/transformers');
    env.allowRemoteModels = false;
    (env as { localModelPath: string }).localModelPath = modelDir;
    (env as { useFSCache: boolean }).useFSCache = false;
    const reference = await pipeline('feature-extraction', DEFAULT_MODEL_ID, { quantized: true });
    const viaPipeline = async (texts: string[]) => {
      const out = await reference(texts, { pooling: 'cls', normalize: true });
      return Array.from({ length: texts.length }, (_, i) => Array.from((out.data as Float32Array).subarray(i * 512, (i + 1) * 512)));
    };
    const questions = parseEvalFile(readFileSync(path.join(modelDir, '../eval/dev.jsonl'), 'utf8')).map((item) => item.question);
    const instructed = await createEmbedder({ modelDir, modelId: DEFAULT_MODEL_ID, queryInstruction: true });
    for (const question of questions) {
      expect(Array.from(await instructed.embedQuery(question))).toEqual((await viaPipeline([`${BGE_ZH_QUERY_INSTRUCTION}${question}`.replace(/[A-Z]+/g, (s) => s.toLowerCase())]))[0]);
    }
    // One forward pass of mixed lengths (sorted, as embedDocuments batches them): padding to the
    // longest; and an input past 512 tokens: truncation.
    const batch = ['短', QUESTION, RELEVANT, '区政府工作报告'.repeat(20), '梅李镇推进网格化社会治理。'.repeat(100)];
    expect((await embedder.embedDocuments(batch)).map((v) => Array.from(v))).toEqual(await viaPipeline(batch));
  }, 120_000);

  it('truncates text longer than 512 tokens instead of failing', async () => {
    const long = '梅李镇推进网格化社会治理。'.repeat(100);
    const [v] = await embedder.embedDocuments([long]);
    expect(v?.length).toBe(512);
    expect(Number.isFinite(v![0]!)).toBe(true);
  });

  it('returns an empty list for no texts', async () => {
    expect(await embedder.embedDocuments([])).toEqual([]);
  });

  it('adapts to LangChain Embeddings with number[][]', async () => {
    const lc = new TransformersEmbeddings(embedder);
    const docs = await lc.embedDocuments([RELEVANT, UNRELATED]);
    expect(docs).toHaveLength(2);
    expect(Array.isArray(docs[0])).toBe(true);
    expect(docs[0]).toHaveLength(512);
    const q = await lc.embedQuery(QUESTION);
    expect(typeof q[0]).toBe('number');
    expect(dot(q, docs[0]!)).toBeGreaterThan(dot(q, docs[1]!));
  });

  it('throws E_MODEL_MISSING pointing at model:fetch when files are absent', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'embed-missing-'));
    try {
      const err = await createEmbedder({ modelDir: empty, modelId: DEFAULT_MODEL_ID, queryInstruction: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('E_MODEL_MISSING');
      expect((err as AppError).message).toContain('npm run model:fetch');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
