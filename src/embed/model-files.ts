/**
 * Where the embedding model's files live on disk, which checksums they must have, and a check of
 * both that caches its verdict in `.verified.json` so a normal start does not re-hash 24 MB.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The model the project is built and tested with. */
export const DEFAULT_MODEL_ID = 'Xenova/bge-small-zh-v1.5';

/** The quantized weights, relative to the model folder (Transformers.js' name with `quantized: true`). */
export const ONNX_MODEL_FILE = 'onnx/model_quantized.onnx';

/** Files Transformers.js reads for a quantized feature-extraction model, relative to the model folder. */
export const MODEL_FILES = [
  'config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  ONNX_MODEL_FILE,
] as const;

export type ModelFile = (typeof MODEL_FILES)[number];

/**
 * Accepted sha256 (hex) of the large files, per model id. A list so that another known-good build
 * of the same model can be added without code changes elsewhere. The small JSON configs are not
 * pinned: they are either downloaded or written by model-fetch, and a bad one fails loudly on load.
 */
export const KNOWN_SHA256: Readonly<Record<string, Readonly<Partial<Record<ModelFile, readonly string[]>>>>> = {
  [DEFAULT_MODEL_ID]: {
    // The files of Xenova/bge-small-zh-v1.5 as repackaged in the langchain4j bge-small-zh-v15-q jar 0.36.2.
    'onnx/model_quantized.onnx': ['15b717c382bcb518ba457b93ea6850ede7f4f1cd8937454aa06972366cd19bcc'],
    'tokenizer.json': ['48cea5d44424912a6fd1ea647bf4fe50b55ab8b1e5879c3275f80e339e8fae26'],
  },
};

/** Name of the verdict cache written inside the model folder. */
export const VERIFIED_CACHE_FILE = '.verified.json';

/** Outcome of {@link checkModelFiles}. Paths in `missing` and `badChecksum` are relative to `modelPath`. */
export interface ModelFilesCheck {
  ok: boolean;
  /** Absolute folder of the model: `<modelDir>/<modelId>`. */
  modelPath: string;
  missing: ModelFile[];
  badChecksum: ModelFile[];
}

interface VerifiedEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

interface VerifiedCache {
  version: 1;
  files: Partial<Record<string, VerifiedEntry>>;
}

/** Absolute folder holding the files of `modelId` under `modelDir` (Transformers.js' local layout). */
export function modelPathOf(modelDir: string, modelId: string): string {
  return path.join(path.resolve(modelDir), ...modelId.split('/'));
}

/** Streams a file through sha256, so a large model never sits in memory just to be hashed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** sha256 of an in-memory buffer, hex. */
export function sha256Buffer(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Accepted checksums of `file` for `modelId`, or undefined when the file is not pinned. */
export function expectedSha256(modelId: string, file: ModelFile): readonly string[] | undefined {
  return KNOWN_SHA256[modelId]?.[file];
}

async function readVerifiedCache(modelPath: string): Promise<VerifiedCache> {
  try {
    const parsed = JSON.parse(await readFile(path.join(modelPath, VERIFIED_CACHE_FILE), 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && (parsed as VerifiedCache).version === 1) {
      const files = (parsed as VerifiedCache).files;
      if (files && typeof files === 'object') return { version: 1, files };
    }
  } catch {
    // Absent or unreadable cache: everything gets hashed again, which is only slower.
  }
  return { version: 1, files: {} };
}

async function writeVerifiedCache(modelPath: string, cache: VerifiedCache): Promise<void> {
  const target = path.join(modelPath, VERIFIED_CACHE_FILE);
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(cache, null, 2)}\n`);
    await rename(tmp, target);
  } catch {
    // A read-only model folder must not make the check fail; it just re-hashes next time.
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Checks that every file of `modelId` exists under `modelDir` and that the pinned ones have a known
 * sha256. A file whose size and mtime match the `.verified.json` entry is not hashed again; newly
 * verified files are added to that cache. Model ids without pinned checksums are checked for presence only.
 */
export async function checkModelFiles(modelDir: string, modelId: string): Promise<ModelFilesCheck> {
  const modelPath = modelPathOf(modelDir, modelId);
  const missing: ModelFile[] = [];
  const badChecksum: ModelFile[] = [];
  const cache = await readVerifiedCache(modelPath);
  let cacheChanged = false;

  for (const file of MODEL_FILES) {
    const abs = path.join(modelPath, file);
    let size: number;
    let mtimeMs: number;
    try {
      const st = await stat(abs);
      if (!st.isFile()) {
        missing.push(file);
        continue;
      }
      size = st.size;
      mtimeMs = st.mtimeMs;
    } catch {
      missing.push(file);
      continue;
    }

    const expected = expectedSha256(modelId, file);
    if (!expected) continue;

    const cached = cache.files[file];
    let sha: string;
    if (cached && cached.size === size && cached.mtimeMs === mtimeMs) {
      sha = cached.sha256;
    } else {
      sha = await sha256File(abs);
      cache.files[file] = { size, mtimeMs, sha256: sha };
      cacheChanged = true;
    }
    if (!expected.includes(sha)) badChecksum.push(file);
  }

  if (cacheChanged && missing.length < MODEL_FILES.length) await writeVerifiedCache(modelPath, cache);
  return { ok: missing.length === 0 && badChecksum.length === 0, modelPath, missing, badChecksum };
}
