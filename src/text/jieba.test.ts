/** Tests for the jieba factory: added words stay whole, each segmenter is its own. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createJieba, generalIdfTable } from './jieba.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('createJieba', () => {
  it('keeps added words whole, with their tag', () => {
    const text = '推进千村美居工程';
    expect(createJieba().cut(text, false)).not.toContain('千村美居');
    const jieba = createJieba([{ word: '千村美居', tag: 'nz' }]);
    expect(jieba.cut(text, false)).toContain('千村美居');
    expect(jieba.tag(text, true).find((w) => w.word === '千村美居')?.tag).toBe('nz');
  });

  it('skips one-character words and words with whitespace, and keeps the first tag of a repeated word', () => {
    const jieba = createJieba([{ word: '千村美居', tag: 'v' }, { word: '千村美居', tag: 'nz' }, { word: '千 村', tag: 'n' }, { word: '千', tag: 'n' }]);
    expect(jieba.tag('千村美居', true)).toEqual([{ word: '千村美居', tag: 'v' }]);
  });

  it('makes a new segmenter each time, so extending one leaves the others alone', () => {
    const general = createJieba();
    createJieba([{ word: '瓶改管', tag: 'nz' }]);
    expect(general.cut('推进瓶改管', false)).not.toContain('瓶改管');
  });

  it('reads the general IDF table', () => {
    const table = generalIdfTable();
    table.read();
    expect(table.complete).toBe(true);
    expect(table.get('游泳馆')).toBeGreaterThan(10);
    expect(table.get('时候')).toBeLessThan(5);
  });

  it('is the only module that loads jieba', () => {
    const files = fs.readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const loaders = files.filter((f) => fs.readFileSync(path.join(SRC, f), 'utf8').includes("from '@node-rs/jieba"));
    expect(loaders).toEqual([path.join('text', 'jieba.ts')]);
  });
});
