/** The answer cache over the real service: repeated questions hit, a new index never sees old answers. */
import { beforeAll, describe, expect, it } from 'vitest';
import { cacheKey, normalizeQuestion, withAnswerCache } from '../../src/qa/cache.js';
import type { QaService } from '../../src/qa/service.js';
import { openTestService } from '../services.js';

let service: QaService;

beforeAll(async () => {
  ({ service } = await openTestService());
});

describe('withAnswerCache', () => {
  it('answers a repeated question from the cache with the same answer and citations', async () => {
    const cached = withAnswerCache(service, 10);
    const first = await cached.ask({ question: '临湖镇2023年计划新增多少个智改数转项目?' });
    const again = await cached.ask({ question: ' 临湖镇2023年计划新增多少个智改数转项目? ' });
    expect(cached.cacheStats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
    expect(again.answer).toBe(first.answer);
    expect(again.citations).toEqual(first.citations);
    expect(again.diagnostics.reason).toBe('cached');
  });

  it('keys on filters and topK as well as the question', async () => {
    const cached = withAnswerCache(service, 10);
    await cached.ask({ question: '新增高新技术企业多少家?' });
    await cached.ask({ question: '新增高新技术企业多少家?', filters: { town: '临湖镇' } });
    await cached.ask({ question: '新增高新技术企业多少家?', topK: 3 });
    expect(cached.cacheStats()).toMatchObject({ hits: 0, misses: 3, size: 3 });
  });

  it('fills from a finished stream and replays it as a stream', async () => {
    const cached = withAnswerCache(service, 10);
    const collect = async () => {
      const events = [];
      for await (const e of cached.askStream({ question: '牛塘镇2022年上半年整改了多少起市容违章?' })) events.push(e);
      return events;
    };
    const first = await collect();
    const second = await collect();
    expect(cached.cacheStats().hits).toBe(1);
    const text = (events: typeof first) => events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(text(second)).toBe(text(first));
    expect(text(second)).toContain('12228起');
  });

  it('replays a cached follow-up with the question it searched, in meta as in done', async () => {
    const cached = withAnswerCache(service, 10);
    const input = { question: '那下半年呢?', history: [{ question: '牛塘镇2022年上半年完成了多少套安置房的初始登记?', answer: '……' }] };
    const metaOf = async () => {
      const events = [];
      for await (const e of cached.askStream(input)) events.push(e);
      const meta = events[0];
      if (meta?.type !== 'meta') throw new Error('no meta event first');
      return meta;
    };
    const first = await metaOf();
    const again = await metaOf();
    expect(cached.cacheStats().hits).toBe(1);
    expect(first.rewrittenQuestion).toMatch(/^牛塘镇2022年下半年/);
    expect(again.rewrittenQuestion).toBe(first.rewrittenQuestion);
  });

  it('never serves an answer cached under a previous index version', async () => {
    let version = 'gen-a';
    const view = Object.create(service, { indexVersion: { get: () => version } }) as QaService;
    const cached = withAnswerCache(view, 10);
    await cached.ask({ question: '梅李镇现阶段有多少个三级网格?' });
    version = 'gen-b';
    const after = await cached.ask({ question: '梅李镇现阶段有多少个三级网格?' });
    expect(after.diagnostics.reason).not.toBe('cached');
    expect(cached.cacheStats()).toMatchObject({ hits: 0, misses: 2 });
    expect(cacheKey('gen-a', { question: 'x' })).not.toBe(cacheKey('gen-b', { question: 'x' }));
  });

  it('evicts the least recently used answer beyond its capacity', async () => {
    const cached = withAnswerCache(service, 2);
    await cached.ask({ question: '梅李镇有多少个二级网格?' });
    await cached.ask({ question: '临湖镇新增多少家高新技术企业?' });
    await cached.ask({ question: '梅李镇有多少个二级网格?' });
    await cached.ask({ question: '天生港镇街道排查化解了多少起矛盾纠纷?' });
    expect(cached.cacheStats().size).toBe(2);
    await cached.ask({ question: '梅李镇有多少个二级网格?' });
    expect(cached.cacheStats().hits).toBe(2);
  });

  it('normalises width, spacing and final punctuation only', () => {
    expect(normalizeQuestion(' 梅李镇 有多少个网格？ ')).toBe('梅李镇 有多少个网格');
    expect(normalizeQuestion('ＡＢＣ镇')).toBe('ABC镇');
  });
});
