/**
 * The scale bench's derived vectors (src/evaluate/synthetic-corpus.ts): a sentence that differs
 * from one seen before only in its synthetic town gets that sentence's model vector, and a chunk
 * text the normalised sum of its lines' sentences' vectors. Real model.
 */
import { describe, expect, it } from 'vitest';
import { splitSentences } from '../../src/corpus/chunk.js';
import { derivedVectorEmbedder, syntheticTownName, townlessKey } from '../../src/evaluate/synthetic-corpus.js';
import { openTestService } from '../services.js';

const names = new Set(Array.from({ length: 500 }, (_, i) => syntheticTownName(i)));
const split = (line: string) => splitSentences(line).map(([s, e]) => line.slice(s, e));
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('townlessKey', () => {
  const [a, b] = [syntheticTownName(3), syntheticTownName(77)];
  const stem = (n: string) => n.slice(0, -1);

  it('gives the same key to texts that differ only in the synthetic town, by full name or stem alone', () => {
    expect(townlessKey(`${a}共申报国家高新技术企业35家,${stem(a)}社区完成改造。`, names)).toBe(townlessKey(`${b}共申报国家高新技术企业35家,${stem(b)}社区完成改造。`, names));
    expect(townlessKey(`${stem(a)}社区完成改造。`, names)).toBe(townlessKey(`${stem(b)}社区完成改造。`, names));
  });

  it('keeps texts that differ in anything else apart', () => {
    expect(townlessKey(`${a}共申报国家高新技术企业35家。`, names)).not.toBe(townlessKey(`${a}共申报国家高新技术企业36家。`, names));
    expect(townlessKey('完成科技型中小型企业认定47家。', names)).toBe('完成科技型中小型企业认定47家。');
  });
});

describe('derivedVectorEmbedder', () => {
  it('embeds a sentence once for all its towns and sums a chunk from its sentences', async () => {
    const { embedder } = await openTestService();
    const derived = derivedVectorEmbedder(embedder, 500, split);
    const [a, b] = [syntheticTownName(3), syntheticTownName(77)];
    const first = `${a}共申报国家高新技术企业35家。`;
    const [v] = await derived.embedDocuments([first]);
    expect(derived.stats.embedded).toBe(1);
    const [real] = await embedder.embedDocuments([first]);
    expect(dot(v!, real!)).toBeGreaterThan(0.99999);

    const [again] = await derived.embedDocuments([`${b}共申报国家高新技术企业35家。`]);
    expect(derived.stats.embedded).toBe(1);
    expect(again).toBe(v);

    const chunk = `${b} 科技创新\n${b}共申报国家高新技术企业35家。认定市级高新技术产品10个。`;
    const [c] = await derived.embedDocuments([chunk]);
    expect(derived.stats.embedded).toBe(3);
    const parts = await embedder.embedDocuments([`${b} 科技创新`, first, '认定市级高新技术产品10个。']);
    const sum = parts[0]!.map((x, i) => x + parts[1]![i]! + parts[2]![i]!);
    const norm = Math.sqrt(dot(sum, sum));
    expect(dot(c!, sum) / norm).toBeGreaterThan(0.9999);
    expect(Math.abs(dot(c!, c!) - 1)).toBeLessThan(1e-5);
  });
});
