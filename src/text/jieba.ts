/**
 * The one place jieba is loaded: segmenters over the general dictionary, extended with words of
 * the corpus (town names, quoted policy terms, the commitment verbs) that must stay whole. The
 * keyword index, the question reader and the commitment extractor all segment with segmenters
 * made here, so they cut the same text the same way.
 */
import { Jieba } from '@node-rs/jieba';
import { dict, idf } from '@node-rs/jieba/dict.js';

export type { Jieba };

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
  const jieba = Jieba.withDict(dict);
  const added = new Map<string, string>();
  for (const { word, tag } of words) if (word.length >= 2 && !/\s/.test(word) && !added.has(word)) added.set(word, tag);
  if (added.size > 0) jieba.loadDict(Buffer.from([...added].map(([word, tag]) => `${word} ${ADDED_WORD_FREQUENCY} ${tag}`).join('\n'), 'utf8'));
  return jieba;
}

let general: Jieba | undefined;
/** One shared segmenter over the general dictionary alone, made on first use. Never extend it. */
export function generalJieba(): Jieba {
  general ??= createJieba();
  return general;
}

/** jieba's general-language IDF table as text lines (`word idf`). */
export function generalIdfText(): string {
  return Buffer.from(idf).toString('utf8');
}
