/**
 * Chunking: splits a parsed report into passages of whole sentences that never cross a section
 * boundary. Each chunk's text is exactly `doc.text.slice(start, end)`, so citations can point
 * back into the document.
 */
import type { Chunk, ParsedDocument, Section } from '../domain/types.js';

export interface ChunkOptions {
  /** A chunk grows sentence by sentence up to this many characters. Default 360. */
  maxChars?: number;
  /** A chunk is not closed before it holds this many characters, unless its section ends. Default 120. */
  minChars?: number;
}

/** Sentence ends: Chinese and ASCII full stops, question and exclamation marks, semicolons, line ends. */
const SENTENCE_END = /[。!?;!?;]+[”’」』)]?|\n/g;
/** Where an over-long sentence may be cut when nothing better exists. */
const CLAUSE_END = /[,,、:]/g;

/** Splits [start, end) of text into sentence spans, each trimmed of surrounding whitespace. */
export function splitSentences(text: string, start = 0, end = text.length): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const push = (s: number, e: number) => {
    while (s < e && /\s/.test(text[s]!)) s++;
    while (e > s && /\s/.test(text[e - 1]!)) e--;
    if (e > s) spans.push([s, e]);
  };
  let from = start;
  SENTENCE_END.lastIndex = start;
  for (let m = SENTENCE_END.exec(text); m && m.index < end; m = SENTENCE_END.exec(text)) {
    const stop = Math.min(m.index + m[0].length, end);
    push(from, stop);
    from = stop;
  }
  push(from, end);
  return spans;
}

/** Cuts a sentence longer than max at clause marks (or hard, as a last resort). */
function cutLongSentence(text: string, [start, end]: [number, number], max: number): Array<[number, number]> {
  if (end - start <= max) return [[start, end]];
  const pieces: Array<[number, number]> = [];
  let from = start;
  while (end - from > max) {
    let cut = -1;
    CLAUSE_END.lastIndex = from;
    for (let m = CLAUSE_END.exec(text); m && m.index < from + max; m = CLAUSE_END.exec(text)) cut = m.index + 1;
    if (cut <= from + max / 4) cut = from + max;
    pieces.push([from, cut]);
    from = cut;
  }
  pieces.push([from, end]);
  return pieces;
}

/** The part of a section that is its own: up to the first subsection. */
function ownSpan(sections: Section[], i: number): [number, number] {
  const section = sections[i]!;
  const next = sections[i + 1];
  const end = next && next.start < section.end ? next.start : section.end;
  return [section.start, end];
}

/** The default chunk sizes (part of the index's pipeline version). */
export const chunkOptions: Required<ChunkOptions> = { maxChars: 360, minChars: 120 };

/** Splits a parsed document into chunks. Pure; options default to chunkOptions. */
export function splitIntoChunks(doc: ParsedDocument, options: ChunkOptions = {}): Chunk[] {
  const max = options.maxChars ?? chunkOptions.maxChars;
  const min = options.minChars ?? chunkOptions.minChars;
  const chunks: Chunk[] = [];
  doc.sections.forEach((section, i) => {
    const [start, end] = ownSpan(doc.sections, i);
    const sentences = splitSentences(doc.text, start, end).flatMap((s) => cutLongSentence(doc.text, s, max));
    // A heading with no body of its own (its text lives in subsections) makes no chunk.
    if (sentences.length === 1 && doc.text.slice(...sentences[0]!).replace(/[。;]$/, '') === section.heading) return;
    let current: [number, number] | undefined;
    let members: Array<[number, number]> = [];
    const emit = () => {
      if (!current) return;
      chunks.push({
        id: `${doc.meta.docId}:${chunks.length}`,
        docId: doc.meta.docId,
        text: doc.text.slice(current[0], current[1]),
        start: current[0],
        end: current[1],
        sectionPath: section.path,
        role: section.role,
        town: doc.meta.town,
        years: section.years,
        sentences: members,
      });
      current = undefined;
      members = [];
    };
    for (const sentence of sentences) {
      if (current && sentence[1] - current[0] > max && current[1] - current[0] >= min) emit();
      current = current ? [current[0], sentence[1]] : sentence;
      members.push(sentence);
    }
    emit();
  });
  return chunks;
}
