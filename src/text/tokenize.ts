/**
 * Chinese tokenisation for the keyword index and for sentence scoring: jieba in search mode,
 * extended with the corpus' own place names and policy terms so that 梅李镇 or 千村美居 stay whole.
 */
import { addedWordsDict, createJieba, loadJieba, type DictionaryWord, type Jieba, type Segmenter } from './jieba.js';
import { placeStem } from '../domain/towns.js';

/** Function words and question words: they carry no evidence, yet a question is full of them. */
const STOPWORDS = new Set(
  (
    '的 了 和 与 及 或 是 在 有 对 把 被 为 以 于 等 也 都 而 并 将 要 就 中 上 下 个 之 其 这 那 这个 那个 ' +
    '多少 几 几个 什么 哪 哪些 哪个 哪里 哪条 哪一 怎么 怎样 如何 吗 呢 吧 啊 呀 么 是否 有没有 能不能 可以 ' +
    '请问 一共 共 总共 请 我 我们 你 你们 他们 镇里 镇上 一下 时候 多大 多久 目前 现阶段 情况 方面'
  ).split(/\s+/),
);

export interface Tokenizer {
  /** Tokens for indexing and matching: lower-cased, no punctuation, no stop words. */
  tokenize(text: string): string[];
  /** The jieba it cuts with, for the question reader (src/annotate/question.ts). */
  segmenter: Segmenter;
}

function tokenizerOf(jieba: Jieba): Tokenizer {
  return {
    segmenter: jieba,
    tokenize(text: string): string[] {
      const tokens: string[] = [];
      for (const raw of jieba.cutForSearch(text.normalize('NFKC').toLowerCase(), true)) {
        const token = raw.trim();
        if (!token || STOPWORDS.has(token) || !/[\p{L}\p{N}]/u.test(token)) continue;
        tokens.push(token);
      }
      return tokens;
    },
  };
}

const nouns = (extraWords: readonly string[]): DictionaryWord[] => extraWords.map((word) => ({ word, tag: 'n' }));

/**
 * Tokenizers in use, by their added words. Loading jieba's 5 MB dictionary takes 100-200 ms of one
 * thread and each segmenter holds about 35 MB; a tokenizer only reads its dictionary once built,
 * so generations with the same lexicon (a reindex that adds no new term) share one. Held weakly:
 * the index contexts that use a tokenizer keep it, and the one a reindex replaced is let go.
 */
const inUse = new Map<string, WeakRef<Tokenizer>>();
function known(key: string): Tokenizer | undefined {
  return inUse.get(key)?.deref();
}
function remember(key: string, tokenizer: Tokenizer): Tokenizer {
  for (const [k, ref] of inUse) if (!ref.deref()) inUse.delete(k);
  inUse.set(key, new WeakRef(tokenizer));
  return tokenizer;
}

/** Creates a tokenizer whose dictionary also holds `extraWords` (each kept whole). */
export function createTokenizer(extraWords: readonly string[] = []): Tokenizer {
  const key = addedWordsDict(nouns(extraWords));
  return known(key) ?? remember(key, tokenizerOf(createJieba(nouns(extraWords))));
}

/**
 * createTokenizer for a process that is serving meanwhile (loadJieba: the event loop runs while
 * the dictionary loads). The next createTokenizer with the same words returns it at once.
 */
export async function prepareTokenizer(extraWords: readonly string[] = []): Promise<Tokenizer> {
  const key = addedWordsDict(nouns(extraWords));
  return known(key) ?? remember(key, tokenizerOf(await loadJieba(nouns(extraWords))));
}

/**
 * Terms the corpus coins that a general dictionary lacks: town names and quoted policy terms
 * (“千村美居”, “瓶改管”, “智改数转”). Found from the text, never listed by hand.
 */
export function findCorpusTerms(texts: readonly string[], names: readonly string[] = []): string[] {
  const terms = new Set<string>();
  for (const name of names) {
    if (!name) continue;
    terms.add(name);
    const stem = placeStem(name);
    if (stem.length >= 2 && stem !== name) terms.add(stem);
  }
  for (const text of texts) {
    for (const m of text.matchAll(/[“"]([\u4e00-\u9fff]{2,6})[”"]/g)) terms.add(m[1]!);
  }
  return [...terms].sort();
}
