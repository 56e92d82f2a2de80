// Compares our tokenizer with Transformers.js' on the real model files: the stored indexes were
// built with Transformers.js' ids, so any difference would silently change vectors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitSentences } from '../corpus/chunk.js';
import { cleanText } from '../corpus/clean.js';
import { BGE_ZH_QUERY_INSTRUCTION, lowerAscii } from './embedder.js';
import { ensureModel } from './model-fetch.js';
import { DEFAULT_MODEL_ID, modelPathOf } from './model-files.js';
import { loadWordPiece, type BatchEncoding, type WordPieceTokenizer } from './wordpiece.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const modelDir = path.join(root, 'models');
const modelPath = modelPathOf(modelDir, DEFAULT_MODEL_ID);

type Reference = (texts: string[], options: { padding: boolean; truncation: boolean }) => Record<string, { data: BigInt64Array; dims: number[] }>;
let reference: Reference & { model_max_length: number };
let ours: WordPieceTokenizer;

beforeAll(async () => {
  await ensureModel({ modelDir, modelId: DEFAULT_MODEL_ID, mavenVersions: ['0.36.2'] });
  // Loaded as embedder.ts loaded it before it had its own tokenizer.
  const [{ AutoTokenizer }, { env }] = await Promise.all([import('@xenova/transformers/src/tokenizers.js'), import('@xenova/transformers/src/env.js')]);
  env.allowRemoteModels = false;
  (env as { localModelPath: string }).localModelPath = modelDir;
  (env as { useFSCache: boolean }).useFSCache = false;
  reference = (await AutoTokenizer.from_pretrained(DEFAULT_MODEL_ID)) as unknown as typeof reference;
  ours = loadWordPiece(modelPath);
}, 120_000);

function theirs(texts: string[], limit: number): BatchEncoding {
  reference.model_max_length = limit;
  return reference(texts, { padding: true, truncation: true }) as unknown as BatchEncoding;
}

const KEYS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
let compared = 0;

/** Same ids, masks, type ids and dims as Transformers.js, for the raw texts and as the embedder gives them. */
function expectSame(texts: string[], limit = 512): void {
  for (const input of [texts, texts.map(lowerAscii)]) {
    const expected = theirs(input, limit);
    const actual = ours.encode(input, limit);
    for (const key of KEYS) {
      expect(actual[key].dims, `${key} dims of ${JSON.stringify(input).slice(0, 200)}`).toEqual(expected[key].dims);
      // One message per batch keeps failures readable; the arrays are compared whole.
      if (actual[key].data.join() !== expected[key].data.join()) {
        expect({ input, [key]: Array.from(actual[key].data) }).toEqual({ input, [key]: Array.from(expected[key].data) });
      }
    }
    compared++;
  }
}

const corpusFiles = fs.readdirSync(path.join(root, 'corpus')).filter((f) => f.endsWith('.txt'));
const corpusTexts = corpusFiles.map((f) => fs.readFileSync(path.join(root, 'corpus', f), 'utf8'));

function evalQuestions(): string[] {
  const out: string[] = [];
  for (const file of fs.readdirSync(path.join(root, 'eval')).filter((f) => f.endsWith('.jsonl'))) {
    for (const line of fs.readFileSync(path.join(root, 'eval', file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const item = JSON.parse(line) as { question?: string; standalone?: string; evidence?: string; answer?: string; history?: Array<{ question: string; answer: string }> };
      for (const text of [item.question, item.standalone, item.evidence, item.answer, ...(item.history ?? []).flatMap((h) => [h.question, h.answer])]) {
        if (text) out.push(text);
      }
    }
  }
  return out;
}

const HARD = [
  '',
  ' ',
  '   \t\n  ',
  '\u3000\u00a0\u2002\u2009\u202f\u205f\u1680\u2028\u2029',
  'PM2.5浓度下降3.5%，GDP增长6.2%',
  'PM2.5 pm2.5 Pm2.5',
  'GDP增长，CPI同比上涨2.1%；R&D投入占比3.2%',
  'ＰＭ２．５，ＧＤＰ增长１２．３％（全年）【重点】《报告》“引号”‘单引号’…——',
  '！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～￥￡￠',
  '㐀㐁䶵 𠀀𠀁𪜀𫝀𫠠𬺰 丽豈更 鿿 乸',
  '镇𠀀村𪜀乡',
  '😀😃👍🏽👨‍👩‍👧 村🎉镇 🇨🇳',
  'a\u0000b\u0001c\u0007d\u000be\u000cf\u007fg\u0085h\u009fi',
  'zero\u200bwidth\u200cjoin\u200d\ufeffbom\u2060wj\u00adsoft',
  'lone \ud800 high \udc00 low x\ud83dy',
  'café naïve über façade résumé Ångström ñ',
  'CAFÉ ÜBER Ñ',
  'e\u0301 u\u0308 a\u030a',
  'ﬁ ﬂ ² ³ ½ Ⅻ ① ℃ ㎡',
  'x'.repeat(100),
  'x'.repeat(101),
  'abcdefghij'.repeat(15),
  `前${'abcdefghij'.repeat(15)}后`,
  'supercalifragilisticexpialidocious unbelievableness antidisestablishmentarianism',
  'qzxjvkw hyperlocalisation',
  '[CLS]',
  '[SEP]',
  '[UNK]',
  '[MASK]',
  '[PAD]',
  '文本[CLS]中间[SEP]结尾[UNK]和[MASK]',
  '[cls] [sep] [Cls] [[CLS]] [CLS][SEP][MASK]',
  '[\u0000CLS] [ CLS ] [CLS\u200b]',
  'email: a.b@c.com https://example.org/a?b=c&d=e#f',
  '¥100 $5 €3 £2 ₩9 ¢1',
  'ｱｲｳ カタカナ ひらがな 한국어 Ελληνικά русский العربية עברית हिन्दी ไทย',
  '1,234,567.89 一二三 １２３ 2023年1月1日 12:30 -5 +3 3×4÷2',
  '\ue000\uf8ff\u{f0000}\u{10fffd} private',
  '\u{e0001}\u{e0041}tags \u{1d173}',
  '\ufffd replacement \ufffd',
  '\u2028line\u2029para\r\nwin\rmac',
  '#hashtag @mention ~tilde `tick` ^caret |pipe| \\back/slash',
  '『』「」〔〕〈〉﹁﹂·・•※§¶†‡',
];

describe('wordpiece tokenizer against Transformers.js', () => {
  it('reads model_max_length 512 and the model files it relies on', () => {
    expect(ours.modelMaxLength).toBe(512);
    // Not trivial: a Chinese question gives one id per character plus [CLS]/[SEP], none [UNK].
    const ids = ours.ids('梅李镇有多少个三级网格');
    expect(ids).toHaveLength(13);
    expect(ids[0]).toBe(101);
    expect(ids.at(-1)).toBe(102);
    expect(ids.slice(1, -1).every((id) => id !== 100 && id > 103)).toBe(true);
  });

  it('matches on the hand-written hard cases, one by one and as one padded batch', () => {
    for (const text of HARD) expectSame([text]);
    expectSame(HARD);
    expectSame(HARD, 16);
    // The hard cases do exercise [UNK], added tokens and real word pieces.
    const all = HARD.flatMap((t) => ours.ids(t));
    expect(all).toContain(100);
    // [CLS] written in the text stays one token (lowerAscii makes it [cls], which does not).
    expect(all.filter((id) => id === 101).length).toBeGreaterThan(HARD.length);
    expect(ours.ids('unbelievableness').length).toBeGreaterThan(3);
  });

  it('matches on every line, sentence and chunk-sized window of the shipped corpus', () => {
    expect(corpusTexts.length).toBeGreaterThan(0);
    let n = 0;
    for (const raw of corpusTexts) {
      for (const source of [raw, cleanText(raw).text]) {
        const lines = source.split('\n').filter((l) => l.trim());
        const sentences = splitSentences(source).map(([s, e]) => source.slice(s, e));
        const windows: string[] = [];
        for (let i = 0; i < source.length; i += 300) windows.push(source.slice(i, i + 360));
        for (const text of [...lines, ...sentences, ...windows]) {
          expectSame([text]);
          n++;
        }
        // Batches of mixed lengths: padding; whole files: truncation at 512 and at 16.
        for (let i = 0; i < sentences.length; i += 8) expectSame(sentences.slice(i, i + 8));
        expectSame(windows.slice(0, 8), 16);
        expectSame([source, lines[0] ?? '', '短'], 512);
      }
    }
    expect(n).toBeGreaterThan(1000);
  }, 120_000);

  it('matches on every question and answer in eval/, with and without the query instruction', () => {
    const questions = evalQuestions();
    expect(questions.length).toBeGreaterThan(500);
    for (const q of questions) {
      expectSame([q]);
      expectSame([`${BGE_ZH_QUERY_INSTRUCTION}${q}`]);
    }
    for (let i = 0; i < questions.length; i += 16) expectSame(questions.slice(i, i + 16));
    expectSame(questions.slice(0, 32), 16);
  }, 120_000);

  it('matches on a seeded random fuzz of mixed character classes', () => {
    let seed = 20261206;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const range = (from: number, to: number) => String.fromCodePoint(from + Math.floor(random() * (to - from + 1)));
    const classes: Array<() => string> = [
      () => range(0x4e00, 0x9fff),
      () => range(0x4e00, 0x4fff),
      () => range(0x3400, 0x4dbf),
      () => range(0x20000, 0x2a6df),
      () => range(0xf900, 0xfaff),
      () => range(0x2f800, 0x2fa1f),
      () => range(0x61, 0x7a),
      () => range(0x41, 0x5a),
      () => range(0x30, 0x39),
      () => range(0x21, 0x7e),
      () => range(0xff01, 0xff5e),
      () => range(0x3000, 0x303f),
      () => range(0x2000, 0x206f),
      () => range(0x00, 0x1f),
      () => range(0x7f, 0xff),
      () => range(0x100, 0x24f),
      () => range(0x300, 0x36f),
      () => range(0x1f300, 0x1faff),
      () => range(0xd800, 0xdfff),
      () => range(0xe000, 0xf8ff),
      () => range(0xfe00, 0xfe6f),
      () => pick([' ', ' ', '\t', '\n', '\u00a0', '\u3000', '\u200b', '\ufeff', '\u2028']),
      () => pick(['[CLS]', '[SEP]', '[UNK]', '[MASK]', '[PAD]', '[', ']', 'CLS']),
      () => pick(['pm2.5', 'GDP', 'ing', 'tion', '##', 'the', 'er', 'café', '增长', '亿元', '%']),
      () => 'abcdefghijklmnopqrstuvwxyz'.repeat(5).slice(0, 90 + Math.floor(random() * 20)),
    ];
    const texts: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 40);
      let text = '';
      for (let j = 0; j < length; j++) text += pick(classes)();
      texts.push(text);
    }
    for (const text of texts) expectSame([text]);
    for (let i = 0; i < texts.length; i += 25) expectSame(texts.slice(i, i + 25), i % 50 === 0 ? 16 : 512);
  }, 120_000);

  it('compared many non-trivial encodings', () => {
    expect(compared).toBeGreaterThan(5000);
  });
});

describe('wordpiece tokenizer refuses what it does not implement', () => {
  const variant = (change: (json: Record<string, any>) => void): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wordpiece-'));
    const json = JSON.parse(fs.readFileSync(path.join(modelPath, 'tokenizer.json'), 'utf8')) as Record<string, any>;
    change(json);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    fs.copyFileSync(path.join(modelPath, 'tokenizer_config.json'), path.join(dir, 'tokenizer_config.json'));
    return dir;
  };

  it('loads an unchanged copy', () => {
    const dir = variant(() => undefined);
    try {
      expect(loadWordPiece(dir).ids('梅李镇')).toEqual(ours.ids('梅李镇'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['lowercase', (j: Record<string, any>) => (j.normalizer.lowercase = true), /BertNormalizer settings/],
    ['strip_accents', (j: Record<string, any>) => (j.normalizer.strip_accents = true), /BertNormalizer settings/],
    ['handle_chinese_chars', (j: Record<string, any>) => (j.normalizer.handle_chinese_chars = false), /BertNormalizer settings/],
    ['normalizer type', (j: Record<string, any>) => (j.normalizer = { type: 'NFKC' }), /not BertNormalizer/],
    ['pre-tokenizer', (j: Record<string, any>) => (j.pre_tokenizer = { type: 'Whitespace' }), /not BertPreTokenizer/],
    ['model', (j: Record<string, any>) => (j.model.type = 'BPE'), /not WordPiece/],
    ['post-processor', (j: Record<string, any>) => (j.post_processor = { type: 'ByteLevel' }), /post_processor/],
  ])('refuses a tokenizer.json with a different %s', (_name, change, message) => {
    const dir = variant(change);
    try {
      expect(() => loadWordPiece(dir)).toThrow(message);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
