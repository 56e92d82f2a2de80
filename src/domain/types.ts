/** Plain data records exchanged between the pipeline stages. No behaviour lives here. */

/** What a section of a report is about: what was done, what is promised, or neither. */
export type Role = 'review' | 'plan' | 'other';

export const ROLES: readonly Role[] = ['review', 'plan', 'other'];

export type SourceFormat = 'txt' | 'md' | 'html' | 'docx' | 'pdf';

/** A corpus file turned into text by a loader (before cleaning). */
export interface LoadedFile {
  /** File name relative to the corpus directory, with forward slashes. */
  file: string;
  format: SourceFormat;
  /** sha256 of the file's bytes, hex. */
  hash: string;
  /** The extracted text, as the loader produced it. */
  text: string;
  /** Encoding the bytes were decoded from (text formats only). */
  encoding?: string;
}

/**
 * Maps offsets in cleaned text back to offsets in the loaded text. Each entry starts a run in
 * which both offsets advance together: `[cleanStart, originalStart]`, sorted by cleanStart.
 */
export type OffsetMap = Array<[number, number]>;

/** A span the cleaner removed from the loaded text, with why. Offsets are in the loaded text. */
export interface RemovedSpan {
  start: number;
  end: number;
  reason: 'spam' | 'boilerplate';
  text: string;
}

export interface CleanedText {
  text: string;
  offsetMap: OffsetMap;
  removed: RemovedSpan[];
}

export interface DocumentMeta {
  /** Stable id derived from the file name (without extension). */
  docId: string;
  file: string;
  format: SourceFormat;
  hash: string;
  title: string;
  town: string;
  /** The district or city the town belongs to, e.g. 常州市武进区. Empty when unknown. */
  district: string;
  /** YYYY-MM-DD when the report states a day, else YYYY. */
  date: string;
  /** Calendar years the report covers (reviewed or planned), ascending. */
  years: number[];
}

/** A node of a report's heading tree, with its role. Offsets are into the cleaned text. */
export interface Section {
  id: string;
  /** Heading text (without the body that may follow it on the same line). */
  heading: string;
  /** Headings from the top of the tree down to this one. */
  path: string[];
  /** 0 for parts such as 2022年上半年工作回顾, then 1 for 一、, 2 for (一), 3 for 1. */
  level: number;
  role: Role;
  /** Years this section is about (from its own heading or its ancestors'). */
  years: number[];
  /** Start of the heading. */
  start: number;
  /** Start of the body (after the heading). */
  bodyStart: number;
  /** End of the section including its subsections. */
  end: number;
}

export interface ParsedDocument {
  meta: DocumentMeta;
  /** The cleaned text: every offset in sections and chunks points into it. */
  text: string;
  sections: Section[];
  offsetMap: OffsetMap;
  removed: RemovedSpan[];
}

export interface Chunk {
  id: string;
  docId: string;
  text: string;
  start: number;
  end: number;
  /** Heading path of the deepest section holding the chunk. */
  sectionPath: string[];
  role: Role;
  town: string;
  /** Years the chunk's section covers. */
  years: number[];
  /** The chunk's sentences as [start, end) offsets into the document; each is embedded on its own. */
  sentences: Array<[number, number]>;
}

/** A retrieved chunk with its document metadata and score: what the API returns. */
export interface Passage {
  chunkId: string;
  docId: string;
  title: string;
  town: string;
  date: string;
  section: string;
  role: Role;
  text: string;
  start: number;
  end: number;
  score: number;
}

export interface SearchFilters {
  town?: string;
  year?: number;
  role?: Role;
}
