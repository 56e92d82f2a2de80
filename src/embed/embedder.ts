/**
 * Turns text into bge-small-zh vectors locally: our WordPiece tokenizer (wordpiece.ts, the ids of
 * Transformers.js' tokenizer) and onnxruntime (quantized onnx, CLS pooling, L2-normalised). The LangChain adapter is in
 * langchain-embeddings.ts, so that the embedding worker threads, which load this module, do not
 * load LangChain.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as onnxruntime from 'onnxruntime-node';
import { AppError } from '../errors.js';
import { checkModelFiles, ONNX_MODEL_FILE, type ModelFilesCheck } from './model-files.js';
import { loadWordPiece, type WordPieceTokenizer } from './wordpiece.js';

/** Vector size of bge-small-zh-v1.5 (its hidden_size). */
export const EMBEDDING_DIMENSION = 512;

/** bge's instruction for Chinese retrieval queries (passages are embedded without it). */
export const BGE_ZH_QUERY_INSTRUCTION = '为这个句子生成表示以用于检索相关文章：';

/** Longest input the model accepts (max_position_embeddings); longer text is truncated. */
export const MAX_MODEL_TOKENS = 512;

/** Produces unit-length vectors; dot product equals cosine similarity. */
export interface Embedder {
  /** Identifies the model and every setting that changes document vectors; stored with an index. */
  id: string;
  dimension: number;
  embedDocuments(texts: string[]): Promise<Float32Array[]>;
  embedQuery(text: string): Promise<Float32Array>;
  /**
   * Takes no more work and resolves once the work under way has finished (the worker pool: a
   * process must not exit in the middle of a forward pass). None: nothing to wait for.
   */
  close?(): Promise<void>;
}

export interface EmbedderOptions {
  /** Root of the model files (MODEL_DIR). */
  modelDir: string;
  /** Transformers.js model id (EMBEDDING_MODEL). */
  modelId: string;
  /** Texts per forward pass in embedDocuments. Default 1 (see EMBED_BATCH_SIZE). */
  batchSize?: number;
  /** Prefix queries with {@link BGE_ZH_QUERY_INSTRUCTION}. */
  queryInstruction: boolean;
  /** Truncate inputs to this many tokens (including [CLS]/[SEP]); at most 512. */
  maxTokens?: number;
  /**
   * onnxruntime intra-op threads of this embedder's session. Default: onnxruntime's own (one per
   * core). Pool workers set 1 so that N workers use N cores instead of fighting over them.
   */
  intraOpThreads?: number;
}

/** Static facts about the default embedder, for code that needs them before loading the model. */
export const embedderInfo = {
  modelId: 'Xenova/bge-small-zh-v1.5',
  dimension: EMBEDDING_DIMENSION,
  pooling: 'cls',
  normalized: true,
  quantized: true,
  maxTokens: MAX_MODEL_TOKENS,
  queryInstruction: BGE_ZH_QUERY_INSTRUCTION,
} as const;

// onnxruntime-node is CommonJS: depending on the loader its classes are on the namespace or on its default.
const ort = (onnxruntime as unknown as { default?: typeof onnxruntime }).default ?? onnxruntime;

interface LoadedModel {
  /** The model's tokenizer, not the keyword tokenizer of src/text. */
  tokenizer: WordPieceTokenizer;
  session: onnxruntime.InferenceSession;
  dimension: number;
}

/** Loaded models by folder and thread count: loading takes a while and a session is safe to share. */
const models = new Map<string, Promise<LoadedModel>>();

/**
 * Our tokenizer and the onnx model in an onnxruntime session of our own: what Transformers.js'
 * feature-extraction pipeline runs, without the library. Its tokenizer module alone cost about
 * 30 MB of RSS in every embedding worker thread. A pipeline reads the 24 MB model into memory to
 * give it as bytes, and onnxruntime-node 1.14 ignores the thread options of a model given as bytes
 * (one spinning thread per core in every session; two pool workers on two cores were slower than
 * one); given by path, it honours them.
 */
function loadModel(modelPath: string, intraOpThreads: number | undefined): Promise<LoadedModel> {
  const key = `${modelPath}\u0000${intraOpThreads ?? ''}`;
  let loading = models.get(key);
  if (!loading) {
    loading = (async () => {
      const tokenizer = loadWordPiece(modelPath);
      const threads = intraOpThreads === undefined ? {} : { intraOpNumThreads: intraOpThreads, interOpNumThreads: 1 };
      // No CPU memory arena: the arena keeps the largest pass's buffers for good (a session loads
      // 7-9 MB smaller without it, a 5,000-report replica ends ~20 MB lower after 100 questions);
      // plain allocation measured as fast (docs/benchmarks.md, "Replica memory at 5,000 reports").
      const session = await ort.InferenceSession.create(path.join(modelPath, ONNX_MODEL_FILE), { executionProviders: ['cpu'], enableCpuMemArena: false, ...threads });
      const config = JSON.parse(fs.readFileSync(path.join(modelPath, 'config.json'), 'utf8')) as { hidden_size?: unknown };
      return { tokenizer, session, dimension: typeof config.hidden_size === 'number' ? config.hidden_size : EMBEDDING_DIMENSION };
    })();
    models.set(key, loading);
    // A failed load must not be cached, or a later model:fetch would not help until a restart.
    loading.catch(() => models.delete(key));
  }
  return loading;
}

/**
 * The [CLS] row of each input, L2-normalised, as Transformers.js' pipeline computes it (pooling
 * 'cls', normalize): the sum of squares and its root rounded to float32 at every step, so that
 * vectors are bit-for-bit those of the pipeline, and of every index built with it.
 */
function clsNormalised(hidden: Float32Array, rows: number, sequence: number, dimension: number): Float32Array[] {
  const sum = new Float32Array(1);
  return Array.from({ length: rows }, (_, r) => {
    const row = hidden.subarray(r * sequence * dimension, r * sequence * dimension + dimension);
    sum[0] = 0;
    for (let j = 0; j < dimension; j++) sum[0]! += row[j]! ** 2;
    sum[0] = sum[0]! ** 0.5;
    const out = new Float32Array(dimension);
    for (let j = 0; j < dimension; j++) out[j] = row[j]! / sum[0]!;
    return out;
  });
}

/** E_MODEL_MISSING for files that are absent or corrupt, pointing at `npm run model:fetch`. */
export function modelNotUsable(modelId: string, check: ModelFilesCheck): AppError {
  const problems = [
    check.missing.length > 0 ? `missing ${check.missing.join(', ')}` : '',
    check.badChecksum.length > 0 ? `wrong checksum for ${check.badChecksum.join(', ')}` : '',
  ].filter(Boolean);
  return new AppError('E_MODEL_MISSING', `embedding model ${modelId} is not usable in ${check.modelPath} (${problems.join('; ')}); run \`npm run model:fetch\``);
}

/**
 * Loads the model from `<modelDir>/<modelId>` (never from the network) and returns an embedder.
 * Throws E_MODEL_MISSING, pointing at `npm run model:fetch`, when files are absent or corrupt.
 * The loaded model is shared by every embedder of the same folder and id in this process.
 */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const { modelDir, modelId, queryInstruction } = options;
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 1));
  const maxTokens = Math.min(MAX_MODEL_TOKENS, Math.max(8, Math.floor(options.maxTokens ?? MAX_MODEL_TOKENS)));

  const check = await checkModelFiles(modelDir, modelId);
  if (!check.ok) throw modelNotUsable(modelId, check);

  const threads = options.intraOpThreads === undefined ? undefined : Math.max(1, Math.floor(options.intraOpThreads));
  let model: LoadedModel;
  try {
    model = await loadModel(check.modelPath, threads);
  } catch (err) {
    throw new AppError('E_MODEL_MISSING', `embedding model ${modelId} failed to load from ${check.modelPath}: ${(err as Error).message}; run \`npm run model:fetch\``, { cause: err });
  }
  const { tokenizer, session, dimension } = model;
  // Truncation follows the tokenizer's model_max_length only; a config that omits it (or says
  // 1e30, as some tokenizer_config.json files do) would let long text overflow the 512 positions.
  const limit = Math.min(tokenizer.modelMaxLength, maxTokens);

  const embedBatch = async (texts: string[]): Promise<Float32Array[]> => {
    // The vocabulary has no upper-case Latin tokens and the tokenizer does not lower-case, so
    // GDP or PM2.5 would become [UNK]. Padded to the batch's longest input.
    const encoded: Record<string, { data: BigInt64Array; dims: number[] } | undefined> = { ...tokenizer.encode(texts.map(lowerAscii), limit) };
    const feeds: Record<string, onnxruntime.Tensor> = {};
    for (const name of session.inputNames) {
      const input = encoded[name];
      if (!input) throw new AppError('E_INTERNAL', `embedder: the model wants input ${name}, which the tokenizer does not give`);
      feeds[name] = new ort.Tensor('int64', input.data, input.dims);
    }
    const output = (await session.run(feeds)).last_hidden_state;
    const [rows, sequence, width] = output?.dims ?? [];
    if (!output || rows !== texts.length || width !== dimension || sequence === undefined) {
      throw new AppError('E_INTERNAL', `embedder: expected ${texts.length}x?x${dimension} last_hidden_state, got [${output?.dims.join(', ') ?? 'none'}]`);
    }
    return clsNormalised(output.data as Float32Array, rows, sequence, dimension);
  };

  return {
    id: `${modelId}@q8-cls-norm-lc-${limit}`,
    dimension,
    async embedDocuments(texts: string[]): Promise<Float32Array[]> {
      const result = new Array<Float32Array>(texts.length);
      // Batches of similar length waste less compute on padding; results go back in input order.
      const order = texts.map((_, i) => i).sort((a, b) => (texts[a] ?? '').length - (texts[b] ?? '').length);
      for (let start = 0; start < order.length; start += batchSize) {
        const indices = order.slice(start, start + batchSize);
        const vectors = await embedBatch(indices.map((i) => texts[i] ?? ''));
        indices.forEach((textIndex, k) => {
          result[textIndex] = vectors[k] as Float32Array;
        });
      }
      return result;
    },
    async embedQuery(text: string): Promise<Float32Array> {
      const [vector] = await embedBatch([queryInstruction ? `${BGE_ZH_QUERY_INSTRUCTION}${text}` : text]);
      return vector as Float32Array;
    },
  };
}

/** The embedder's input as the tokenizer sees it: ASCII A-Z lower-cased, nothing else changed. */
export function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}
