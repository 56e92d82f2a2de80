/** Tests for Chinese tokenisation: corpus terms stay whole, question words and punctuation go, clauses split into words. */

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanText } from '../corpus/clean.js';
import { listCorpusFiles, loadFile } from '../corpus/load.js';
import { describeDocument, sidecarSchema } from '../corpus/structure.js';
import type { ParsedDocument } from '../domain/types.js';
import { createTokenizer, findCorpusTerms, type Tokenizer } from './tokenize.js';

const CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../corpus');

const docs: ParsedDocument[] = [];
let terms: string[] = [];
/** The tokenizer the index uses: jieba plus the corpus' own terms. */
let tokenizer: Tokenizer;
/** Plain jieba, for contrast. */
let plain: Tokenizer;

beforeAll(async () => {
  for (const file of await listCorpusFiles(CORPUS)) {
    const loaded = await loadFile(CORPUS, file);
    const sidecarFile = path.join(CORPUS, file.replace(/\.[^./]+$/, '') + '.meta.json');
    const sidecar = fs.existsSync(sidecarFile) ? sidecarSchema.parse(JSON.parse(fs.readFileSync(sidecarFile, 'utf8'))) : {};
    docs.push(describeDocument(loaded, cleanText(loaded.text), sidecar));
  }
  // As the index build does: quoted terms from the texts, town and district names from the metadata.
  terms = findCorpusTerms(
    docs.map((d) => d.text),
    docs.flatMap((d) => [d.meta.town, d.meta.district]),
  );
  tokenizer = createTokenizer(terms);
  plain = createTokenizer();
});

/** The corpus sentences (split at 。) that mention a word. */
function sentencesWith(word: string): string[] {
  return docs.flatMap((d) => d.text.split(/[。\n]/)).filter((s) => s.includes(word));
}

describe('findCorpusTerms', () => {
  it('finds the coined policy terms and town names of the shipped corpus', () => {
    for (const term of ['梅李镇', '千村美居', '瓶改管', '智改数转', '牛塘镇', '淀山湖镇', '临湖镇', '天生港镇街道']) expect(terms).toContain(term);
  });

  it('takes quoted terms of two to six characters and names with their stems', () => {
    expect(findCorpusTerms(['推进“千村美居”建设,开展“瓶改管”,落实“四查一帮扶”,“一”“这是一个过长的引用内容”'], ['梅李镇', '常熟市', ''])).toEqual(
      ['千村美居', '四查一帮扶', '常熟', '常熟市', '梅李', '梅李镇', '瓶改管'].sort(),
    );
  });
});

describe('createTokenizer', () => {
  it.each(['梅李镇', '千村美居', '瓶改管', '智改数转', '淀山湖镇', '天生港镇街道'])('keeps the corpus term %s whole in every corpus sentence that uses it', (term) => {
    const sentences = sentencesWith(term);
    expect(sentences.length).toBeGreaterThan(0);
    for (const sentence of sentences) expect(tokenizer.tokenize(sentence), sentence).toContain(term);
  });

  it.each(['千村美居', '瓶改管', '智改数转'])('would split %s without the corpus lexicon', (term) => {
    expect(plain.tokenize(sentencesWith(term)[0]!)).not.toContain(term);
  });

  it.each([
    ['梅李镇现阶段有多少个二级网格?', ['梅李镇', '二级', '网格']],
    ['淀山湖镇2020年计划做什么?', ['淀山湖镇', '2020', '计划']],
    ['临湖镇新增了哪些高新技术企业?', ['临湖镇', '新增', '高新技术', '企业']],
    ['牛塘镇下半年要完成多少套安置房的初始登记?', ['牛塘镇', '下半年', '安置', '初始', '登记']],
  ])('drops the question words of %s and keeps its content words', (question, content) => {
    const tokens = tokenizer.tokenize(question);
    for (const word of ['多少', '什么', '哪些', '的', '了', '要']) expect(tokens).not.toContain(word);
    for (const word of content) expect(tokens).toContain(word);
  });

  it('splits a Chinese clause into several words, not one token and not only single characters', () => {
    const clause = '全力推动传统优势产业智能化改造、数字化转型';
    const tokens = tokenizer.tokenize(clause);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    expect(tokens).not.toContain(clause);
    expect(tokens.filter((t) => [...t].length >= 2).length).toBeGreaterThanOrEqual(4);
    for (const word of ['推动', '产业', '智能化', '改造', '数字化', '转型']) expect(tokens).toContain(word);
  });

  it('lower-cases and folds full-width forms so ＰＭ２．５ and PM2.5 give the same token', () => {
    expect(tokenizer.tokenize('ＰＭ２．５浓度')).toEqual(tokenizer.tokenize('pm2.5浓度'));
    expect(tokenizer.tokenize('PM2.5浓度')).toContain('pm2.5');
  });

  it('never makes a token of punctuation, whatever the text', () => {
    const cjk = fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((c) => String.fromCharCode(c));
    const punctuation = fc.constantFrom(...'。,、;:!?“”‘’《》()【】〔〕—…·,.;:!?"\'()[]-_/ \n\t\u3000,。;:!?');
    const text = fc
      .array(fc.oneof({ weight: 3, arbitrary: cjk }, { weight: 3, arbitrary: punctuation }, { weight: 1, arbitrary: fc.string({ maxLength: 3 }) }), { maxLength: 60 })
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (t) => {
        for (const token of tokenizer.tokenize(t)) {
          expect(token, JSON.stringify(t)).toMatch(/[\p{L}\p{N}]/u);
          expect(token).not.toMatch(/\s|[。,、;:!?“”‘’《》()【】〔〕…]/u);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same tokens for the same text every time', () => {
    const sentence = sentencesWith('千村美居')[0]!;
    expect(tokenizer.tokenize(sentence)).toEqual(tokenizer.tokenize(sentence));
  });
});

describe('tokenizers in use', () => {
  it('shares one per lexicon while it is used, and lets one go once nothing uses it (real child process, --expose-gc)', () => {
    // Each holds a jieba of about 35 MB: a server whose reindex changed the lexicon must not keep the old one.
    const url = new URL('./tokenize.ts', import.meta.url).href;
    const code = `const { createTokenizer } = await import(${JSON.stringify(url)});
let old = createTokenizer(['甲乙丙丁']);
const shared = createTokenizer(['甲乙丙丁']) === old;
let released = false;
const registry = new FinalizationRegistry(() => { released = true; });
registry.register(old, 'old');
const live = createTokenizer(['戊己庚辛']);
old = undefined;
for (let i = 0; i < 20 && !released; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
process.stdout.write(JSON.stringify({ shared, released, live: live.tokenize('戊己庚辛').length }));`;
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ shared: true, released: true, live: 1 });
  });
});
