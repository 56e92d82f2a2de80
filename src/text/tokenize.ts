/**
 * Chinese tokenisation for the keyword index and for sentence scoring: jieba in search mode,
 * extended with the corpus' own place names and policy terms so that 梅李镇 or 千村美居 stay whole.
 */
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';

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
}

/** The words a tokenizer adds to jieba's dictionary, as loadDict takes them. */
function extraDict(extraWords: readonly string[]): string {
  const words = [...new Set(extraWords.filter((w) => w.length >= 2 && !/\s/.test(w)))];
  // A high frequency makes jieba prefer the whole term over its parts.
  return words.map((w) => `${w} 200000 n`).join('\n');
}

function tokenizerOf(jieba: Jieba, extra: string): Tokenizer {
  if (extra) jieba.loadDict(Buffer.from(extra, 'utf8'));
  return {
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

/**
 * Tokenizers built lately, by their extra words. Loading jieba's 5 MB dictionary takes 100-200 ms
 * of one thread; a tokenizer only reads its dictionary once built, so generations with the same
 * lexicon (a reindex that adds no new term) share one. Two are kept: the live one and the next.
 */
const recent = new Map<string, Tokenizer>();
function remember(extra: string, tokenizer: Tokenizer): Tokenizer {
  recent.delete(extra);
  recent.set(extra, tokenizer);
  while (recent.size > 2) recent.delete(recent.keys().next().value!);
  return tokenizer;
}

/** Creates a tokenizer whose dictionary also holds `extraWords` (each kept whole). */
export function createTokenizer(extraWords: readonly string[] = []): Tokenizer {
  const extra = extraDict(extraWords);
  return remember(extra, recent.get(extra) ?? tokenizerOf(Jieba.withDict(dict), extra));
}

/** Bytes of jieba's dictionary loaded at a time by prepareTokenizer: about a millisecond's work. */
const DICT_SLICE_BYTES = 32 * 1024;

/**
 * createTokenizer for a process that is serving meanwhile: jieba's dictionary is loaded a slice
 * of lines at a time with the event loop running between slices (jieba adds each line's word
 * as it comes, so the tokenizer is the one createTokenizer builds: test/hardening/swap-load.test.ts).
 * The next createTokenizer with the same words returns it at once.
 */
export async function prepareTokenizer(extraWords: readonly string[] = []): Promise<Tokenizer> {
  const extra = extraDict(extraWords);
  const known = recent.get(extra);
  if (known) return remember(extra, known);
  const jieba = new Jieba();
  for (let at = 0; at < dict.length; ) {
    let end = Math.min(dict.length, at + DICT_SLICE_BYTES);
    while (end < dict.length && dict[end - 1] !== 0x0a) end++;
    jieba.loadDict(dict.subarray(at, end));
    at = end;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return remember(extra, tokenizerOf(jieba, extra));
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
    const stem = name.replace(/(镇街道|街道|镇|乡|市|区|县)$/, '');
    if (stem.length >= 2 && stem !== name) terms.add(stem);
  }
  for (const text of texts) {
    for (const m of text.matchAll(/[“"]([\u4e00-\u9fff]{2,6})[”"]/g)) terms.add(m[1]!);
  }
  return [...terms].sort();
}
