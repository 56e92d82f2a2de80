/** Tests for chunking: whole sentences, never across sections, offsets into the document, no text lost. */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Chunk, LoadedFile, ParsedDocument, Section } from '../domain/types.js';
import { chunkOptions, splitIntoChunks, splitSentences } from './chunk.js';
import { cleanText } from './clean.js';
import { listCorpusFiles, loadFile } from './load.js';
import { describeDocument, sidecarSchema } from './structure.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CORPUS = path.join(ROOT, 'corpus');

/** A section's own span: from its heading to its first subsection (or its end). */
function ownSpan(sections: readonly Section[], i: number): [number, number] {
  const s = sections[i]!;
  const next = sections[i + 1];
  return [s.start, next && next.start < s.end ? next.start : s.end];
}

/** A section whose own text is its heading alone (its content lives in subsections) makes no chunk. */
function isHeadingOnly(doc: ParsedDocument, i: number): boolean {
  const own = doc.text.slice(...ownSpan(doc.sections, i)).trim();
  return own.replace(/[。;]$/, '') === doc.sections[i]!.heading;
}

/** Sentence ends as the design states them: Chinese or ASCII 。!?; (maybe closed by a quote or bracket). */
const ENDS_SENTENCE = /[。!?;!?;][”’」』)]?$/;

interface Invariants {
  maxChars: number;
  minChars: number;
}

/** Checks every structural promise of splitIntoChunks for one document. */
function expectChunkInvariants(doc: ParsedDocument, chunks: Chunk[], { maxChars, minChars }: Invariants): void {
  const spans = doc.sections.map((_, i) => ownSpan(doc.sections, i));
  let previousEnd = 0;
  for (const chunk of chunks) {
    // Offsets point back into the source, in order, without overlap.
    expect(0 <= chunk.start && chunk.start < chunk.end && chunk.end <= doc.text.length).toBe(true);
    expect(chunk.text).toBe(doc.text.slice(chunk.start, chunk.end));
    expect(chunk.start).toBeGreaterThanOrEqual(previousEnd);
    previousEnd = chunk.end;

    // Inside one section's own span, and labelled with that section.
    const home = spans.findIndex(([s, e]) => s <= chunk.start && chunk.end <= e);
    expect(home, `chunk ${chunk.id} crosses a section boundary`).toBeGreaterThanOrEqual(0);
    const section = doc.sections[home]!;
    expect(chunk.sectionPath).toEqual(section.path);
    expect(chunk.role).toBe(section.role);
    expect(chunk.years).toEqual(section.years);
    expect(chunk.docId).toBe(doc.meta.docId);
    for (const other of doc.sections) expect(other.start > chunk.start && other.start < chunk.end).toBe(false);

    // Its sentences tile it, in order.
    expect(chunk.sentences.length).toBeGreaterThan(0);
    expect(chunk.sentences[0]![0]).toBe(chunk.start);
    expect(chunk.sentences.at(-1)![1]).toBe(chunk.end);
    chunk.sentences.forEach(([s, e], k) => {
      expect(s).toBeLessThan(e);
      if (k > 0) expect(s).toBeGreaterThanOrEqual(chunk.sentences[k - 1]![1]);
      // Each piece a sentence was cut into fits in maxChars.
      expect(e - s).toBeLessThanOrEqual(maxChars);
    });

    // Over maxChars only when the chunk was still under minChars before its last sentence.
    if (chunk.end - chunk.start > maxChars) {
      const before = chunk.sentences.at(-2);
      expect(before, `chunk ${chunk.id} is one sentence longer than maxChars`).toBeDefined();
      expect(before![1] - chunk.start).toBeLessThan(minChars);
    }

    // It ends at a sentence end, a line end or its section's end, or inside a sentence longer than maxChars.
    const [, sectionEnd] = spans[home]!;
    const atSentenceEnd = ENDS_SENTENCE.test(chunk.text) || doc.text.slice(chunk.end, sectionEnd).trim() === '' || /^[^\S\n]*\n/.test(doc.text.slice(chunk.end));
    if (!atSentenceEnd) {
      const sentence = splitSentences(doc.text, ...spans[home]!).find(([s, e]) => s < chunk.end && chunk.end < e);
      expect(sentence, `chunk ${chunk.id} ends mid-sentence: …${chunk.text.slice(-20)}`).toBeDefined();
      expect(sentence![1] - sentence![0]).toBeGreaterThan(maxChars);
    }
  }

  // No text is lost: every non-space character of a section's own span is in a chunk of that section.
  doc.sections.forEach((_, i) => {
    if (isHeadingOnly(doc, i)) return;
    const [start, end] = spans[i]!;
    const own = chunks.filter((c) => c.start >= start && c.end <= end);
    for (let p = start; p < end; p++) {
      if (/\s/.test(doc.text[p]!)) continue;
      if (!own.some((c) => c.start <= p && p < c.end)) expect.fail(`character ${p} (${doc.text[p]}) of section ${i} is in no chunk`);
    }
  });
}

const docs: ParsedDocument[] = [];

beforeAll(async () => {
  for (const file of await listCorpusFiles(CORPUS)) {
    const loaded = await loadFile(CORPUS, file);
    const sidecarFile = path.join(CORPUS, file.replace(/\.[^./]+$/, '') + '.meta.json');
    const sidecar = fs.existsSync(sidecarFile) ? sidecarSchema.parse(JSON.parse(fs.readFileSync(sidecarFile, 'utf8'))) : {};
    docs.push(describeDocument(loaded, cleanText(loaded.text), sidecar));
  }
});

describe('splitIntoChunks on the shipped corpus', () => {
  it('keeps every structural promise for each report with the default sizes', () => {
    expect(docs).toHaveLength(5);
    for (const doc of docs) expectChunkInvariants(doc, splitIntoChunks(doc), chunkOptions);
  });

  it('keeps every structural promise with small and large sizes too', () => {
    for (const options of [
      { maxChars: 80, minChars: 20 },
      { maxChars: 200, minChars: 150 },
      { maxChars: 1000, minChars: 400 },
    ]) {
      for (const doc of docs) expectChunkInvariants(doc, splitIntoChunks(doc, options), options);
    }
  });

  it('keeps every chunk of the shipped reports within maxChars', () => {
    for (const doc of docs) for (const chunk of splitIntoChunks(doc)) expect(chunk.text.length).toBeLessThanOrEqual(chunkOptions.maxChars);
  });

  it('keeps every sentence that ends in 。 and fits in maxChars whole inside one chunk', () => {
    for (const doc of docs) {
      const chunks = splitIntoChunks(doc);
      doc.sections.forEach((_, i) => {
        if (isHeadingOnly(doc, i)) return;
        for (const [s, e] of splitSentences(doc.text, ...ownSpan(doc.sections, i))) {
          if (doc.text[e - 1] !== '。' || e - s > chunkOptions.maxChars) continue;
          expect(chunks.some((c) => c.start <= s && e <= c.end), doc.text.slice(s, e)).toBe(true);
        }
      });
    }
  });

  it('places each dev-set evidence string inside exactly one chunk', () => {
    const normalise = (s: string) => s.normalize('NFKC').replace(/\s+/g, '');
    const chunks = docs.flatMap((doc) => splitIntoChunks(doc));
    const questions = fs
      .readFileSync(path.join(ROOT, 'eval/dev.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { id: string; file: string | null; evidence: string | null });
    const answerable = questions.filter((q): q is { id: string; file: string; evidence: string } => q.evidence !== null);
    expect(answerable.length).toBeGreaterThanOrEqual(20);
    for (const q of answerable) {
      const holding = chunks.filter((c) => normalise(c.text).includes(normalise(q.evidence)));
      expect(holding.map((c) => c.docId), `${q.id}: ${q.evidence}`).toEqual([q.file.replace(/\.txt$/, '')]);
    }
  });

  it('makes no chunk for a heading whose text lives in its subsections', () => {
    const doc = docs.find((d) => d.meta.docId === 'linhu-2022-summary-2023-plan')!;
    const chunks = splitIntoChunks(doc);
    // 一、全力以赴稳增长… stands on its own line; its paragraphs follow under it in the same section.
    expect(chunks.some((c) => c.text.startsWith('一、全力以赴稳增长,更快速度优化产业体系'))).toBe(true);
    const bare = doc.sections.filter((_, i) => isHeadingOnly(doc, i));
    for (const s of bare) expect(chunks.some((c) => c.sectionPath.join('>') === s.path.join('>'))).toBe(false);
  });
});

/** A hand-built document: the given text and sections, default metadata. */
function handBuilt(text: string, sections: Section[]): ParsedDocument {
  return {
    meta: { docId: 'doc', file: 'doc.txt', format: 'txt', hash: '', title: '', town: '某镇', district: '', date: '2023', years: [2023] },
    text,
    sections,
    offsetMap: [[0, 0]],
    removed: [],
  };
}

function flatSection(id: number, heading: string, start: number, end: number): Section {
  return { id: `doc#s${id}`, heading, path: heading ? [heading] : [], level: heading ? 1 : 0, role: 'plan', years: [2023], start, bodyStart: start + heading.length, end };
}

describe('splitIntoChunks on small documents', () => {
  it('keeps a sentence that ends in 。 whole', () => {
    const sentences = ['全面完成年度目标任务。', '新建道路三条,改造老旧小区五个。', '力争新增高新技术企业十家以上。', '确保安全生产形势稳定。'];
    const text = sentences.join('');
    const chunks = splitIntoChunks(handBuilt(text, [flatSection(0, '', 0, text.length)]), { maxChars: 30, minChars: 5 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const sentence of sentences) expect(chunks.filter((c) => c.text.includes(sentence))).toHaveLength(1);
    for (const chunk of chunks) expect(chunk.text).toMatch(/。$/);
  });

  it('grows a chunk sentence by sentence up to maxChars and closes it there', () => {
    const sentence = '推进重点项目建设。'; // 9 characters
    const text = sentence.repeat(10);
    const chunks = splitIntoChunks(handBuilt(text, [flatSection(0, '', 0, text.length)]), { maxChars: 30, minChars: 10 });
    expect(chunks.map((c) => c.text.length)).toEqual([27, 27, 27, 9]);
  });

  it('cuts a sentence longer than maxChars at clause marks', () => {
    const clause = '加快推进城乡融合发展,'; // 11 characters
    const text = `${clause.repeat(12)}确保完成任务。`;
    const chunks = splitIntoChunks(handBuilt(text, [flatSection(0, '', 0, text.length)]), { maxChars: 40, minChars: 10 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks.slice(0, -1)) {
      expect(chunk.text.length).toBeLessThanOrEqual(40);
      expect(chunk.text).toMatch(/,$/);
    }
    expect(chunks.map((c) => c.text).join('')).toBe(text);
  });

  it('never lets a chunk run from one section into the next', () => {
    const first = '一、稳增长\n完成地区生产总值45亿元。';
    const second = '二、惠民生\n新增就业岗位八百个。';
    const text = `${first}\n${second}`;
    const sections = [flatSection(0, '一、稳增长', 0, first.length + 1), flatSection(1, '二、惠民生', first.length + 1, text.length)];
    const chunks = splitIntoChunks(handBuilt(text, sections), { maxChars: 400, minChars: 200 });
    expect(chunks.map((c) => [c.text, c.sectionPath])).toEqual([
      [first, ['一、稳增长']],
      [second, ['二、惠民生']],
    ]);
  });
});

describe('splitIntoChunks properties', () => {
  const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c));
  const piece = fc.oneof(
    { weight: 10, arbitrary: cjk },
    { weight: 3, arbitrary: fc.constantFrom('。', ',', '、', ';', '!', '?', '!', '?', ';', '。”', ':', ' ', '\n', '\n\n') },
    { weight: 1, arbitrary: fc.constantFrom('\n一、', '\n(一)', '\n1.', '\n2022年上半年工作回顾\n', '\n二〇二三年工作目标和任务\n', '2023年', '完成了', '力争') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 3 }) },
  );
  const text = fc.array(piece, { maxLength: 400 }).map((pieces) => pieces.join(''));
  const sizes = fc
    .record({ maxChars: fc.integer({ min: 4, max: 300 }), minChars: fc.integer({ min: 0, max: 300 }) })
    .map(({ maxChars, minChars }) => ({ maxChars, minChars: Math.min(minChars, maxChars) }));

  /** Flat sections from sorted cut points; each section's heading is the start of its first line (maybe empty). */
  const handBuiltDoc = fc
    .tuple(text, fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.nat({ max: 12 }), { maxLength: 8 }))
    .map(([t, cuts, headingLengths]) => {
      const bounds = [...new Set([0, ...cuts.map((c) => c % (t.length + 1)), t.length])].sort((a, b) => a - b);
      const sections: Section[] = [];
      for (let k = 0; k + 1 < bounds.length; k++) {
        const [start, end] = [bounds[k]!, bounds[k + 1]!];
        const line = t.slice(start, end).split('\n')[0]!;
        sections.push(flatSection(k, line.slice(0, headingLengths[k] ?? 0), start, end));
      }
      return handBuilt(t, sections);
    });

  it('points every chunk of a hand-built document back into it, in order, whole sentences, no text lost', () => {
    fc.assert(
      fc.property(handBuiltDoc, sizes, (doc, options) => {
        expectChunkInvariants(doc, splitIntoChunks(doc, options), options);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the same promises for documents that describeDocument builds from random text', () => {
    fc.assert(
      fc.property(text, sizes, (t, options) => {
        const loaded: LoadedFile = { file: 'random.txt', format: 'txt', hash: '', text: t };
        const doc = describeDocument(loaded, cleanText(t));
        expectChunkInvariants(doc, splitIntoChunks(doc, options), options);
      }),
      { numRuns: 300 },
    );
  });
});
