/**
 * The one place jieba is loaded: segmenters over the general dictionary, extended with words of
 * the corpus (town names, quoted policy terms, the commitment verbs) that must stay whole. The
 * keyword index, the question reader and the commitment extractor all segment with segmenters
 * made here, so they cut the same text the same way. Each holds about 35 MB: a server keeps one
 * per live index (its keyword tokenizer's, which the question reader shares).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Jieba } from '@node-rs/jieba';
import { IdfTable } from './idf-table.js';

export type { Jieba };

/**
 * What the question reader needs of a segmenter. A server passes its index's (the keyword
 * tokenizer's: general dictionary plus the corpus' words), so it holds one jieba, not two.
 */
export type Segmenter = Pick<Jieba, 'cut' | 'tag'>;

/** A word to add to the dictionary, with its part-of-speech tag (n, nz, v …). */
export interface DictionaryWord {
  word: string;
  tag: string;
}

/** The frequency added words get: high enough that jieba prefers the whole word over its parts. */
const ADDED_WORD_FREQUENCY = 200000;

/**
 * A new segmenter over the general dictionary plus `words` (words shorter than two characters or
 * holding whitespace are skipped; a word given twice keeps its first tag). Each call loads the
 * dictionary anew (about 0.3 s): make one per index, not per request.
 */
export function createJieba(words: readonly DictionaryWord[] = []): Jieba {
  return withAddedWords(Jieba.withDict(jiebaFile('dict.txt')), words);
}

/**
 * A file of jieba's package: dict.txt (the general dictionary, 5 MB), read for each load and then
 * let go, and idf.txt. Not the package's dict.js, which reads both and keeps them for the life of
 * the process, though jieba holds its own copy of the dictionary.
 */
function jiebaFile(name: 'dict.txt' | 'idf.txt'): Buffer {
  return fs.readFileSync(path.join(path.dirname(createRequire(import.meta.url).resolve('@node-rs/jieba/dict.js')), name));
}

/** The dictionary lines of `words`, as createJieba adds them; empty when none is kept. */
export function addedWordsDict(words: readonly DictionaryWord[]): string {
  const added = new Map<string, string>();
  for (const { word, tag } of words) if (word.length >= 2 && !/\s/.test(word) && !added.has(word)) added.set(word, tag);
  return [...added].map(([word, tag]) => `${word} ${ADDED_WORD_FREQUENCY} ${tag}`).join('\n');
}

function withAddedWords(jieba: Jieba, words: readonly DictionaryWord[]): Jieba {
  const lines = addedWordsDict(words);
  if (lines) jieba.loadDict(Buffer.from(lines, 'utf8'));
  return jieba;
}

/** Bytes of the dictionary loadJieba loads at a time: about a millisecond's work. */
const DICT_SLICE_BYTES = 32 * 1024;

/**
 * createJieba for a process that is serving meanwhile: the general dictionary is loaded a slice
 * of lines at a time with the event loop running between slices (jieba adds each line's word as
 * it comes, so the segmenter is the one createJieba builds: test/hardening/swap-load.test.ts).
 */
export async function loadJieba(words: readonly DictionaryWord[] = []): Promise<Jieba> {
  const jieba = new Jieba();
  const dict = jiebaFile('dict.txt');
  for (let at = 0; at < dict.length; ) {
    let end = Math.min(dict.length, at + DICT_SLICE_BYTES);
    while (end < dict.length && dict[end - 1] !== 0x0a) end++;
    jieba.loadDict(dict.subarray(at, end));
    at = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return withAddedWords(jieba, words);
}

let generalIdfs: IdfTable | undefined;
/** jieba's general-language IDF table, shared; read() it (all at once, or a slice at a time) before get(). */
export function generalIdfTable(): IdfTable {
  generalIdfs ??= new IdfTable(jiebaFile('idf.txt'));
  return generalIdfs;
}
