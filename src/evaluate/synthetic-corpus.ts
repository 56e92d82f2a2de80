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

/** Writes `count` synthetic reports into outDir (created); returns their file names. */
export function generateSyntheticCorpus(sourceDir: string, outDir: string, count: number, seed = 42): string[] {
  const random = mulberry32(seed);
  const docs = fs
    .readdirSync(sourceDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((file) => {
      const text = fs.readFileSync(path.join(sourceDir, file), 'utf8');
      const loaded: LoadedFile = { file, format: 'txt', hash: '', text };
      return describeDocument(loaded, cleanText(text));
    });
  const towns = docs.map((d) => d.meta.town).filter(Boolean);
  const stems = towns.map(townStem);
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
    let text = body.join('\n');
    // Full names first, then stems (天生港镇街道 before 天生港).
    for (const town of [...towns].sort((a, b) => b.length - a.length)) text = text.split(town).join(name);
    for (const stem of [...stems].sort((a, b) => b.length - a.length)) text = text.split(stem).join(townStem(name));
    const file = `synthetic-${String(i).padStart(4, '0')}.txt`;
    fs.writeFileSync(path.join(outDir, file), `${text}\n`);
    files.push(file);
  }
  return files;
}
