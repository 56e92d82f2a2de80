/**
 * The import graph of src/ obeys the layering rule (README, "Architecture"; the rule as data in
 * test/architecture.ts): nothing imports a stage above its own or a sibling of its layer, only
 * the index store touches hnswlib-node and the index files, and core code raises AppError with a
 * code only. The checker is also run on fake graphs, so a bad import is seen to fail.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appErrorViolations, applyAllowList, checkArchitecture, importsOf, layeringViolations, readSources, stageOf, storeViolations, type Allowed } from './architecture.js';

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * Known violations, each with the work that removes it. Empty now: a new entry needs a reason, and
 * an entry that no longer matches anything fails the test, so the list only shrinks.
 */
const ALLOWED: readonly Allowed[] = [];

describe('the import graph of src/', () => {
  const files = readSources(SRC);

  it('reads the imports of every module (static, type-only, side-effect and dynamic)', () => {
    expect(files.size).toBeGreaterThan(100);
    const serve = importsOf('cli/serve.ts', files.get('cli/serve.ts')!);
    expect(serve.map((e) => e.to)).toEqual(expect.arrayContaining(['dotenv/config', 'config.ts', 'cli/runtime.ts']));
  });

  it('has no violation of the layering, the store rule or the AppError rule beyond the allow-list', () => {
    const { remaining } = applyAllowList(checkArchitecture(files), ALLOWED);
    expect(remaining.map((v) => v.message)).toEqual([]);
  });

  it('has no allow-list entry that nothing needs any more (the list only shrinks)', () => {
    const { stale } = applyAllowList(checkArchitecture(files), ALLOWED);
    expect(stale).toEqual([]);
  });

  it('imports hnswlib-node in exactly one file, inside the store', () => {
    const importers = [...files].filter(([file, source]) => importsOf(file, source).some((e) => e.to === 'hnswlib-node')).map(([file]) => file);
    expect(importers).toHaveLength(1);
    expect(importers[0]).toMatch(/^(store|index)\//);
  });
});

describe('the checker, on fake graphs', () => {
  const graph = (entries: Record<string, string>) => new Map(Object.entries(entries));
  const check = (entries: Record<string, string>) => checkArchitecture(graph(entries)).map((v) => v.message);

  it('names each stage by its folder; the writer files of src/index are the ingest', () => {
    expect(stageOf('qa/ask.ts')).toBe('qa');
    expect(stageOf('errors.ts')).toBe('errors');
    expect(stageOf('index/lexical.ts')).toBe('store');
    expect(stageOf('index/build.ts')).toBe('ingest');
  });

  it('passes imports that run downward', () => {
    expect(check({ 'server/app.ts': "import type { QaService } from '../qa/types.js';", 'qa/ask.ts': "import { answerFromRetrieval } from '../answer/retrieved.js';\nimport { AppError } from '../errors.js';" })).toEqual([]);
  });

  it('fails a lower stage importing a higher one, naming the import', () => {
    expect(check({ 'retrieve/hybrid.ts': "import { createApp } from '../server/app.js';" })).toEqual([
      'retrieve/hybrid.ts:1 imports ../server/app.js: retrieve (layer 6) must not import server (layer 2, above it)',
    ]);
  });

  it('fails a dynamic import and a type-only import upward, and siblings importing each other', () => {
    const messages = check({
      'embed/pool.ts': "const m = await import('../cli/runtime.js');",
      'corpus/load.ts': "import type {\n  Tokenizer,\n} from '../text/tokenize.js';",
      'answer/x.ts': "export type { Commitment } from '../commitments/types.js';",
    });
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^embed\/pool\.ts:1 imports \.\.\/cli\/runtime\.js: embed .* must not import cli/);
    expect(messages[1]).toMatch(/^corpus\/load\.ts:1 .* corpus and text share layer/);
    expect(messages[2]).toMatch(/answer and commitments share layer/);
  });

  it('fails a folder that is in no layer, and ignores imports in comments', () => {
    expect(check({ 'widgets/x.ts': "import { AppError } from '../errors.js';" })[0]).toMatch(/stage "widgets" is in no layer/);
    expect(check({ 'text/t.ts': "// import { createApp } from '../server/app.js';\n/* import '../cli/serve.js' */" })).toEqual([]);
  });

  it('fails hnswlib-node, the index file modules and index file names outside the store, and a second hnswlib file', () => {
    const edges = (entries: Record<string, string>) => [...graph(entries)].flatMap(([f, s]) => importsOf(f, s));
    const outside = { 'retrieve/hybrid.ts': "import hnswlib from 'hnswlib-node';\nimport type { LoadedIndex } from '../index/store.js';", 'cli/bench.ts': "const p = path.join(dir, 'chunks.json');" };
    expect(storeViolations(graph(outside), edges(outside)).map((v) => v.message)).toEqual([
      'retrieve/hybrid.ts:1 imports hnswlib-node: only the index store may',
      'retrieve/hybrid.ts:2 imports ../index/store.js: the index file format is the store\'s; read through IndexStore (src/store/index-store.ts)',
      'cli/bench.ts:1 names the index file chunks.json: only the store opens index files',
    ]);
    const two = { 'index/vector.ts': "import hnswlib from 'hnswlib-node';", 'store/other.ts': "import { HierarchicalNSW } from 'hnswlib-node';" };
    expect(storeViolations(graph(two), edges(two)).map((v) => v.message)).toEqual(['hnswlib-node is imported by index/vector.ts, store/other.ts: one file of the store wraps it']);
    const inside = { 'store/file-store.ts': "import { loadIndex } from '../index/store.js';\nconst f = 'manifest.json';" };
    expect(storeViolations(graph(inside), edges(inside))).toEqual([]);
  });

  it('fails an HTTP status in a core AppError, not in the server nor in a message', () => {
    expect(appErrorViolations(graph({ 'drafting/x.ts': "throw new AppError('E_NOT_FOUND', `no ${id}`, { status: 404 });" }))).toHaveLength(1);
    expect(appErrorViolations(graph({ 'admin/x.ts': "const invalid = (m, status = 400) => new AppError('E_UPLOAD_INVALID', m, { status });" }))).toHaveLength(1);
    expect(appErrorViolations(graph({ 'server/x.ts': "next(new AppError('E_BAD_REQUEST', 'x', { status: 405 }));" }))).toEqual([]);
    expect(appErrorViolations(graph({ 'commitments/x.ts': "throw new AppError('E_BAD_REQUEST', `--status: one of ${list}`, { kind: 'unknown-reference' });" }))).toEqual([]);
  });

  it('keeps an allowed violation out, and reports an entry nothing matches as stale', () => {
    const violations = layeringViolations(importsOf('commitments/answer.ts', "import type { Answer } from '../answer/extractive.js';"));
    const allowed: Allowed[] = [{ rule: 'layering', file: 'commitments/answer.ts', target: 'answer/extractive.ts', why: '' }, { rule: 'layering', file: 'qa/x.ts', target: 'server/app.ts', why: '' }];
    expect(applyAllowList(violations, allowed)).toEqual({ remaining: [], stale: [allowed[1]] });
  });
});
