/**
 * The layering rule of src/ (README, "Architecture") as data, and the checks that read the real
 * import graph against it: which stage may import which, that only the index store touches
 * hnswlib-node and the index files, and that core code raises AppError with a code only. Pure
 * functions over a file map, so test/architecture.test.ts also runs them on fake graphs.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Stages from the top (entry points) to the bottom (shared types). A stage may import stages of
 * the layers below its own; stages that share a layer are independent and never import each
 * other; nothing imports upward. A stage is a folder of src/ (or a module at its root), except
 * `ingest`: the writer side of src/index/ (it runs the pipeline stages and stores their output).
 */
export const LAYERS: ReadonlyArray<readonly string[]> = [
  ['cli'],
  // Settings are read once, by the entry points, and handed down (createApp(deps)): only cli imports config.
  ['config'],
  ['server'],
  // Features built on the QA service: report management, residents' feedback, staff drafting, evaluation.
  ['admin', 'feedback', 'drafting', 'evaluate'],
  // Question orchestration (routes between commitments and extractive answers); the ingest, which
  // runs the stages below and stores what they compute.
  ['qa', 'ingest'],
  ['answer', 'commitments'],
  ['retrieve'],
  ['store'],
  ['annotate'],
  // The towns file's aliases are checked with the domain's town rules.
  ['corpus', 'embed', 'text', 'towns-config'],
  ['domain', 'durable-file', 'turns'],
  ['errors'],
];

/** Files of src/index/ that are the ingest (the writer), not the store the query side reads. */
const INGEST_FILES = new Set(['index/build.ts', 'index/derive.ts', 'index/ingest-runner.ts', 'index/ingest-child.ts']);

/** The index store: the only code that may open index files or hnswlib (src/store/, and src/index/ behind it). */
const STORE_DIRS = ['store/', 'index/'];

/** Modules that are the file format itself: LoadedIndex, loadIndex/writeIndex, the hnswlib wrapper. */
const INDEX_FILE_MODULES = new Set(['index/store.ts', 'index/vector.ts']);

/** Names of the files of an index generation (src/index/store.ts), which only the store opens. */
const INDEX_FILE_NAMES = /\b(?:documents|chunks|keywords|lexicon|annotations|indicators|derived|manifest)\.json\b|\b(?:sentence-)?embeddings\.f32\b|\bvectors\.hnsw\b|\.write\.lock\b/;

/** One import of a src file: `to` is a path relative to src/ for a relative import, else the package name. */
export interface ImportEdge {
  from: string;
  to: string;
  /** The specifier as written. */
  spec: string;
  line: number;
}

export interface Violation {
  rule: 'layering' | 'store' | 'app-error';
  file: string;
  line: number;
  message: string;
}

/** An accepted violation, until the work that removes it lands: file, and what it imports or does. */
export interface Allowed {
  rule: Violation['rule'];
  file: string;
  /** The imported module (src-relative path or package), or for `store`/`app-error` a text the message contains. */
  target: string;
  why: string;
}

/** The stage of a src-relative path (`qa/ask.ts` -> `qa`, `errors.ts` -> `errors`, `index/build.ts` -> `ingest`). */
export function stageOf(file: string): string {
  if (INGEST_FILES.has(file)) return 'ingest';
  const [head, ...rest] = file.split('/');
  if (rest.length === 0) return head!.replace(/\.(ts|js|json)$/, '');
  return head === 'index' ? 'store' : head!;
}

const LEVEL = new Map(LAYERS.flatMap((stages, level) => stages.map((s) => [s, level] as const)));

/** Comments removed (line numbers kept), so an import in a comment is no import. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/^\s*\/\/.*$/gm, '');
}

/** String literals emptied (line numbers kept), so `status:` in a message is no option. */
function stripStrings(text: string): string {
  return text.replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, (s) => s.replace(/[^\n]/g, ' '));
}

const lineAt = (text: string, index: number): number => text.slice(0, index).split('\n').length;

/** Every static import/export-from, side-effect import and import() (also `typeof import()`) of a file. */
export function importsOf(file: string, source: string): ImportEdge[] {
  const text = stripComments(source);
  const edges: ImportEdge[] = [];
  const patterns = [/\b(?:import|export)\s+(?:type\s+)?[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g];
  for (const pattern of patterns) {
    for (const m of text.matchAll(pattern)) {
      const spec = m[1]!;
      const to = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      edges.push({ from: file, to, spec, line: lineAt(text, m.index) });
    }
  }
  return edges;
}

/** Layering: no stage imports a stage of its own layer or of one above. Unknown stages are violations too. */
export function layeringViolations(edges: readonly ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  for (const e of edges) {
    if (!e.spec.startsWith('.')) continue;
    const from = stageOf(e.from);
    const to = stageOf(e.to);
    if (from === to) continue;
    const a = LEVEL.get(from);
    const b = LEVEL.get(to);
    if (a === undefined || b === undefined) {
      const unknown = a === undefined ? from : to;
      out.push({ rule: 'layering', file: e.from, line: e.line, message: `${e.from}:${e.line} imports ${e.spec}: stage "${unknown}" is in no layer; add it to LAYERS (test/architecture.ts) and README` });
    } else if (b < a) {
      out.push({ rule: 'layering', file: e.from, line: e.line, message: `${e.from}:${e.line} imports ${e.spec}: ${from} (layer ${a}) must not import ${to} (layer ${b}, above it)` });
    } else if (b === a) {
      out.push({ rule: 'layering', file: e.from, line: e.line, message: `${e.from}:${e.line} imports ${e.spec}: ${from} and ${to} share layer ${a} and must not import each other` });
    }
  }
  return out;
}

const inStore = (file: string): boolean => STORE_DIRS.some((d) => file.startsWith(d));

/** The store's privacy: hnswlib-node in one file of the store, the index file format and file names nowhere else. */
export function storeViolations(files: ReadonlyMap<string, string>, edges: readonly ImportEdge[]): Violation[] {
  const out: Violation[] = [];
  const hnswlib = edges.filter((e) => e.to === 'hnswlib-node');
  for (const e of hnswlib) {
    if (!inStore(e.from)) out.push({ rule: 'store', file: e.from, line: e.line, message: `${e.from}:${e.line} imports hnswlib-node: only the index store may` });
  }
  const importers = [...new Set(hnswlib.map((e) => e.from))];
  if (importers.length > 1) out.push({ rule: 'store', file: importers[1]!, line: 0, message: `hnswlib-node is imported by ${importers.join(', ')}: one file of the store wraps it` });
  for (const e of edges) {
    if (INDEX_FILE_MODULES.has(e.to) && !inStore(e.from)) {
      out.push({ rule: 'store', file: e.from, line: e.line, message: `${e.from}:${e.line} imports ${e.spec}: the index file format is the store's; read through IndexStore (src/store/index-store.ts)` });
    }
  }
  for (const [file, source] of files) {
    if (inStore(file)) continue;
    const text = stripComments(source);
    const m = INDEX_FILE_NAMES.exec(text);
    if (m) out.push({ rule: 'store', file, line: lineAt(text, m.index), message: `${file}:${lineAt(text, m.index)} names the index file ${m[0]}: only the store opens index files` });
  }
  return out;
}

/** Core code (everything but src/server and the entry points) raises AppError with a code (and kind), never an HTTP status. */
export function appErrorViolations(files: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const [file, source] of files) {
    if (file.startsWith('server/') || file.startsWith('cli/')) continue;
    const text = stripStrings(stripComments(source));
    for (const m of text.matchAll(/new AppError\(/g)) {
      let depth = 1;
      let i = m.index + m[0].length;
      while (depth > 0 && i < text.length) {
        if (text[i] === '(') depth++;
        else if (text[i] === ')') depth--;
        i++;
      }
      if (/\bstatus\b\s*[:,}]/.test(text.slice(m.index, i))) {
        out.push({ rule: 'app-error', file, line: lineAt(text, m.index), message: `${file}:${lineAt(text, m.index)} raises an AppError with an HTTP status: core code names the code (and a kind); server/errors.ts maps it` });
      }
    }
  }
  return out;
}

/** Violations not on the allow-list, and allow-list entries that no longer match anything (to be removed). */
export function applyAllowList(violations: readonly Violation[], allowed: readonly Allowed[]): { remaining: Violation[]; stale: Allowed[] } {
  const matches = (v: Violation, a: Allowed) => v.rule === a.rule && v.file === a.file && v.message.includes(a.target.replace(/\.ts$/, ''));
  return {
    remaining: violations.filter((v) => !allowed.some((a) => matches(v, a))),
    stale: allowed.filter((a) => !violations.some((v) => matches(v, a))),
  };
}

/** Every .ts file of `srcDir` (declarations and tests excluded), by path relative to it. */
export function readSources(srcDir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !entry.name.endsWith('.test.ts')) {
        files.set(path.relative(srcDir, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
      }
    }
  };
  walk(srcDir);
  return files;
}

/** All the checks over a file map. */
export function checkArchitecture(files: ReadonlyMap<string, string>): Violation[] {
  const edges = [...files].flatMap(([file, source]) => importsOf(file, source));
  return [...layeringViolations(edges), ...storeViolations(files, edges), ...appErrorViolations(files)];
}
