import { describe, expect, it } from 'vitest';
import { RecentlyUsed } from './shared.js';

describe('RecentlyUsed', () => {
  it('forgets the least recently used entry first, a read counting as a use', () => {
    const recent = new RecentlyUsed<number>(2);
    recent.set('a', 1);
    recent.set('b', 2);
    expect(recent.get('a')).toBe(1);
    recent.set('c', 3);
    expect(recent.get('b')).toBeUndefined();
    expect(recent.get('a')).toBe(1);
    expect(recent.get('c')).toBe(3);
  });

  it('reads only the keys it does not hold, once each, and keeps them (null and 0 included)', async () => {
    const recent = new RecentlyUsed<number | null>(10);
    const asked: string[][] = [];
    const fetch = async (missing: string[]) => {
      asked.push(missing);
      return new Map(missing.filter((k) => k !== 'none').map((k) => [k, k === 'nil' ? null : k === 'zero' ? 0 : k.length] as const));
    };
    expect(await recent.getMany(['ab', 'nil', 'zero', 'ab', 'none'], fetch)).toEqual([2, null, 0, 2, undefined]);
    expect(await recent.getMany(['zero', 'nil', 'abc', 'none'], fetch)).toEqual([0, null, 3, undefined]);
    // Nothing is kept for a key with no value: it is asked again.
    expect(asked).toEqual([['ab', 'nil', 'zero', 'none'], ['abc', 'none']]);
    expect(await recent.getMany(['ab'], fetch)).toEqual([2]);
    expect(asked).toHaveLength(2);
  });

  it('bounds the total weight when entries weigh differently, and keeps nothing heavier than the bound', () => {
    const recent = new RecentlyUsed<number[]>(5, (v) => v.length);
    recent.set('a', [1, 2]);
    recent.set('b', [1, 2, 3]);
    expect(recent.get('a')).toEqual([1, 2]);
    // 2 + 3 + 2 > 5: the least recently used (b) goes.
    recent.set('c', [1, 2]);
    expect(recent.get('b')).toBeUndefined();
    expect(recent.get('a')).toEqual([1, 2]);
    expect(recent.get('c')).toEqual([1, 2]);
    recent.set('huge', [1, 2, 3, 4, 5, 6]);
    expect(recent.get('huge')).toBeUndefined();
    expect(recent.get('a')).toEqual([1, 2]);
    // Replacing a value counts its new weight only.
    recent.set('a', [1]);
    recent.set('d', [1, 2]);
    expect([recent.get('a'), recent.get('c'), recent.get('d')]).toEqual([[1], [1, 2], [1, 2]]);
  });
});
