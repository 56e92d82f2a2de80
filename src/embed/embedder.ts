/**
 * Turns text into bge-small-zh vectors locally with Transformers.js (quantized onnx, CLS pooling,
 * L2-normalised), plus a LangChain `Embeddings` adapter so vector stores can use it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import type { FeatureExtractionPipeline } from '@xenova/transformers';
import * as ort from 'onnxruntime-node';
import { AppError } from '../errors.js';
import { checkModelFiles, ONNX_MODEL_FILE, type ModelFilesCheck } from './model-files.js';

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
   * onnxruntime intra-op threads of the session this process loads. Default: onnxruntime's own
   * (one per core). Pool workers set 1 so that N workers use N cores instead of fighting over them.
   * Applies to every model this process loads afterwards (the session is shared).
   */
  intraOpThreads?: number;
}

let onnxThreads: number | undefined;
/** Model files this process may load, so that bytes read from one can be loaded by its path. */
const onnxFiles = new Set<string>();

/**
 * The path of a known model file holding exactly these bytes. onnxruntime-node 1.14 ignores the
 * session options of a model given as bytes, which is how Transformers.js gives it: each session
 * then ran an intra-op pool of one spinning thread per core, and two pool workers on two cores
 * were slower than one (measured: 4 busy threads, 344 against 448 queries/s). Given by path, the
 * same model honours intraOpNumThreads.
 */
function fileHolding(model: unknown): string | undefined {
  if (!(model instanceof Uint8Array)) return undefined;
  for (const file of onnxFiles) {
    try {
      if (fs.statSync(file).size === model.byteLength && Buffer.from(model.buffer, model.byteOffset, model.byteLength).equals(fs.readFileSync(file))) return file;
    } catch {
      // Gone since it was checked: load the bytes as given.
    }
  }
  return undefined;
}

/**
 * Transformers.js v2 gives no way to pass session options, so the one place sessions are made,
 * InferenceSession.create, is wrapped to add the thread counts.
 */
function useOnnxThreads(threads: number, modelFile: string): void {
  const session = ((ort as unknown as { default?: typeof ort }).default ?? ort).InferenceSession as unknown as {
    create: (...args: unknown[]) => Promise<unknown>;
  };
  if (onnxThreads === undefined) {
    const create = session.create.bind(session);
    session.create = (model: unknown, options?: unknown, ...rest: unknown[]) => {
      const file = fileHolding(model);
      const threads = { intraOpNumThreads: onnxThreads, interOpNumThreads: 1 };
      // By path the options are read, and the node binding refuses the 'wasm' provider that
      // Transformers.js lists after 'cpu': keep 'cpu', which is what the bytes always ran on.
      if (file) return create(file, { ...(options as object | undefined), ...threads, executionProviders: ['cpu'] }, ...rest);
      return create(model, { ...(options as object | undefined), ...threads }, ...rest);
    };
  }
  onnxThreads = threads;
  onnxFiles.add(modelFile);
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

/** Loaded pipelines by model folder: loading takes a while and the session is safe to share. */
const pipelines = new Map<string, Promise<FeatureExtractionPipeline>>();

async function loadPipeline(modelDir: string, modelId: string): Promise<FeatureExtractionPipeline> {
  const key = `${modelDir}\u0000${modelId}`;
  let loading = pipelines.get(key);
  if (!loading) {
    // Imported here, not at the top: a server whose model runs in worker threads (pool.ts) never
    // loads Transformers.js in its serving thread, which saves that thread ~30 MB.
    loading = import('@xenova/transformers').then(({ env, pipeline }) => {
      // Serving must never reach the network: files come from model:fetch only.
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      (env as { localModelPath: string }).localModelPath = modelDir;
      // Without this, a stale copy in Transformers.js' own cache folder (inside node_modules) would
      // be read instead of the verified files under modelDir.
      (env as { useFSCache: boolean }).useFSCache = false;
      return pipeline('feature-extraction', modelId, { quantized: true });
    });
    pipelines.set(key, loading);
    // A failed load must not be cached, or a later model:fetch would not help until a restart.
    loading.catch(() => pipelines.delete(key));
  }
  return loading;
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

  if (options.intraOpThreads !== undefined) useOnnxThreads(Math.max(1, Math.floor(options.intraOpThreads)), path.join(check.modelPath, ONNX_MODEL_FILE));

  let extractor: FeatureExtractionPipeline;
  try {
    extractor = await loadPipeline(modelDir, modelId);
  } catch (err) {
    throw new AppError('E_MODEL_MISSING', `embedding model ${modelId} failed to load from ${check.modelPath}: ${(err as Error).message}; run \`npm run model:fetch\``, { cause: err });
  }

  const tokenizer = extractor.tokenizer as { model_max_length?: number };
  // The pipeline truncates to the tokenizer's model_max_length only; a config that omits it (or says
  // 1e30, as some tokenizer_config.json files do) would let long text overflow the 512 positions.
  const configured = typeof tokenizer.model_max_length === 'number' ? tokenizer.model_max_length : Infinity;
  const limit = Math.min(configured, maxTokens);
  const hidden = (extractor.model as { config?: { hidden_size?: unknown } }).config?.hidden_size;
  const dimension = typeof hidden === 'number' ? hidden : EMBEDDING_DIMENSION;

  const embedBatch = async (texts: string[]): Promise<Float32Array[]> => {
    // Set on every call because the pipeline is shared by embedders that may differ in maxTokens;
    // the pipeline tokenizes synchronously when called, before any other code can change it.
    tokenizer.model_max_length = limit;
    // The vocabulary has no upper-case Latin tokens and the tokenizer does not lower-case, so
    // GDP or PM2.5 would become [UNK].
    const output = await extractor(texts.map(lowerAscii), { pooling: 'cls', normalize: true });
    const data = output.data as Float32Array;
    const rows = output.dims[0] ?? 0;
    if (rows !== texts.length || data.length !== rows * dimension) {
      throw new AppError('E_INTERNAL', `embedder: expected ${texts.length}x${dimension} output, got [${output.dims.join(', ')}]`);
    }
    // Copies, so callers do not keep the whole batch tensor alive through a view.
    return Array.from({ length: rows }, (_, i) => data.slice(i * dimension, (i + 1) * dimension));
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

function lowerAscii(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** LangChain adapter: lets an {@link Embedder} back any LangChain vector store. */
export class TransformersEmbeddings extends Embeddings {
  readonly embedder: Embedder;

  constructor(embedder: Embedder, params: EmbeddingsParams = {}) {
    super(params);
    this.embedder = embedder;
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    const vectors = await this.embedder.embedDocuments(documents);
    return vectors.map((v) => Array.from(v));
  }

  async embedQuery(document: string): Promise<number[]> {
    return Array.from(await this.embedder.embedQuery(document));
  }
}
