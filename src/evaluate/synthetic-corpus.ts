/**
 * A synthetic corpus for scale tests, made from the shipped reports so the text stays realistic:
 * each synthetic report keeps one real report's headings and swaps the paragraphs of every
 * section with paragraphs of the same role (review or plan) from all reports, then renames every
 * town to a made-up one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { cleanText } from '../corpus/clean.js';
import { describeDocument } from '../corpus/structure.js';
import type { LoadedFile, ParsedDocument, Role } from '../domain/types.js';
import { townStem } from '../domain/towns.js';
import type { Embedder } from '../embed/embedder.js';

const SYLLABLES = '东西南北青石桥河湖山港塘林泉溪花金银新安丰和平永兴华阳春秋云松竹梅兰星月光明'.split('');

/** A made-up town name for report i: two syllables and 镇 (three syllables past the two-syllable space). */
export function syntheticTownName(i: number): string {
  const n = SYLLABLES.length;
  const a = SYLLABLES[i % n]!;
  const b = SYLLABLES[Math.floor(i / n) % n]!;
  const c = i >= n * n ? SYLLABLES[Math.floor(i / (n * n)) % n]! : '';
  return `${a}${b}${c}镇`;
}

/** Deterministic pseudo-random numbers, so the same N gives the same corpus. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Line {
  text: string;
  role: Role;
  heading: boolean;
}

function linesOf(doc: ParsedDocument): Line[] {
  const lines: Line[] = [];
  let offset = 0;
  for (const text of doc.text.split('\n')) {
    const section = [...doc.sections].reverse().find((s) => s.start <= offset && offset < s.end);
    lines.push({ text, role: section?.role ?? 'other', heading: section !== undefined && section.start === offset });
    offset += text.length + 1;
  }
  return lines;
}

function sourceDocuments(sourceDir: string): ParsedDocument[] {
  return fs
    .readdirSync(sourceDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(sourceDir, file), 'utf8');
      const loaded: LoadedFile = { file, format: 'txt', hash: '', text };
      return describeDocument(loaded, cleanText(text));
    });
}

/** The towns of the source reports, whose names the synthetic reports replace. */
export function sourceTowns(sourceDir: string): string[] {
  return sourceDocuments(sourceDir)
    .map((d) => d.meta.town)
    .filter(Boolean);
}

/** `text` with every one of `towns` (full names first, then stems: 天生港镇街道 before 天生港) renamed to `name`. */
export function renameTowns(text: string, towns: readonly string[], name: string): string {
  let out = text;
  for (const town of [...towns].sort((a, b) => b.length - a.length)) out = out.split(town).join(name);
  for (const stem of towns.map(townStem).sort((a, b) => b.length - a.length)) out = out.split(stem).join(townStem(name));
  return out;
}

/** Writes `count` synthetic reports into outDir (created); returns their file names. */
export function generateSyntheticCorpus(sourceDir: string, outDir: string, count: number, seed = 42): string[] {
  const random = mulberry32(seed);
  const docs = sourceDocuments(sourceDir);
  const towns = docs.map((d) => d.meta.town).filter(Boolean);
  const pools: Record<Role, string[]> = { review: [], plan: [], other: [] };
  const parsed = docs.map(linesOf);
  for (const lines of parsed) for (const l of lines) if (!l.heading && l.text.length >= 40) pools[l.role].push(l.text);

  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = parsed[i % parsed.length]!;
    const name = syntheticTownName(i);
    const body = base.map((l) => {
      const pool = pools[l.role];
      return l.heading || l.text.length < 40 || pool.length === 0 ? l.text : pool[Math.floor(random() * pool.length)]!;
    });
    const text = renameTowns(body.join('\n'), towns, name);
    const file = `synthetic-${String(i).padStart(4, '0')}.txt`;
    fs.writeFileSync(path.join(outDir, file), `${text}\n`);
    files.push(file);
  }
  return files;
}

const FULL = '\u0001';
const STEM = '\u0002';
const NAME_RUN = new RegExp(`[${SYLLABLES.join('')}]{2,3}镇`, 'g');
const STEM_RUN = new RegExp(`[${SYLLABLES.join('')}]{2,3}`, 'g');

/**
 * The text with its synthetic town (one of `names`) replaced by a placeholder: two texts with the
 * same key differ only in which synthetic town they are about. Found by the full name (镇
 * included) when the text has it; else every run of name syllables that is the stem of one of
 * `names` counts as a town (a word spelled with those syllables, 光明 or 东西, is taken for one
 * too: such texts share a key with their variants that differ in that word).
 */
export function townlessKey(text: string, names: ReadonlySet<string>): string {
  const found = new Set<string>();
  for (const m of text.matchAll(NAME_RUN)) {
    // A three-character run may be a two-syllable name after an unrelated character (新东西镇).
    if (names.has(m[0])) found.add(m[0]);
    else if (names.has(m[0].slice(1))) found.add(m[0].slice(1));
  }
  if (found.size > 0) {
    let key = text;
    const sorted = [...found].sort((a, b) => b.length - a.length);
    for (const name of sorted) key = key.split(name).join(FULL);
    for (const name of sorted) key = key.split(townStem(name)).join(STEM);
    return key;
  }
  return text.replace(STEM_RUN, (run) => {
    if (names.has(`${run}镇`)) return STEM;
    if (names.has(`${run.slice(0, 2)}镇`)) return STEM + run.slice(2);
    if (run.length === 3 && names.has(`${run.slice(1)}镇`)) return run[0] + STEM;
    return run;
  });
}

export interface DerivedVectorEmbedder extends Embedder {
  /** Texts asked for (documents and queries), and the sentences that went through the model. */
  stats: { asked: number; embedded: number };
}

function normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return v.map((x) => x / norm);
}

/**
 * Scale runs only (issue 12 allows it): the vectors of synthetic texts are derived from the
 * model's vectors of the sentences they are made of, so 5,000 reports take minutes rather than
 * a day of embedding. A one-line text (a sentence, a query) whose townless key was seen before
 * gets the vector the model gave that first text (the same words about another synthetic town);
 * other one-line texts go through the model. A text of several lines (a chunk with its town and
 * heading line) gets the normalised sum of its lines' sentences' vectors, found the same way:
 * the shuffled paragraphs make nearly every chunk a new combination, never embedded whole.
 */
export function derivedVectorEmbedder(embedder: Embedder, count: number, split: (line: string) => string[]): DerivedVectorEmbedder {
  const names = new Set(Array.from({ length: count }, (_, i) => syntheticTownName(i)));
  const memo = new Map<string, Float32Array>();
  const stats = { asked: 0, embedded: 0 };
  const partsOf = (text: string): string[] => (text.includes('\n') ? text.split('\n').flatMap((line) => split(line)).filter((t) => t.trim()) : [text]);
  const vectorsOf = async (texts: readonly string[], query: boolean): Promise<Float32Array[]> => {
    const tag = query ? 'q' : 'd';
    const unseen = new Map<string, string>();
    for (const text of texts) {
      for (const part of partsOf(text)) {
        const key = tag + townlessKey(part, names);
        if (!memo.has(key) && !unseen.has(key)) unseen.set(key, part);
      }
    }
    if (unseen.size > 0) {
      const parts = [...unseen.values()];
      const vectors = query ? await Promise.all(parts.map((p) => embedder.embedQuery(p))) : await embedder.embedDocuments(parts);
      stats.embedded += parts.length;
      [...unseen.keys()].forEach((key, i) => memo.set(key, vectors[i]!));
    }
    return texts.map((text) => {
      const parts = partsOf(text);
      if (parts.length === 1) return memo.get(tag + townlessKey(parts[0]!, names))!;
      const sum = new Float32Array(embedder.dimension);
      for (const part of parts) {
        const v = memo.get(tag + townlessKey(part, names))!;
        for (let d = 0; d < sum.length; d++) sum[d]! += v[d]!;
      }
      return normalize(sum);
    });
  };
  return {
    id: embedder.id,
    dimension: embedder.dimension,
    stats,
    async embedDocuments(texts) {
      stats.asked += texts.length;
      return vectorsOf(texts, false);
    },
    async embedQuery(text) {
      stats.asked++;
      return (await vectorsOf([text], true))[0]!;
    },
  };
}
