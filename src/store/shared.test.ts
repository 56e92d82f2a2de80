import { describe, expect, it } from 'vitest';
import type { Role } from '../domain/types.js';
import type { StoreFilters } from './index-store.js';
import { dotProduct, filtersNothing, passesFilters } from './shared.js';

describe('dotProduct', () => {
  it('equals the plain sum of products for every length, the ones the unrolled loop leaves over included', () => {
    for (const n of [0, 1, 2, 3, 4, 5, 7, 511, 512]) {
      const a = Float32Array.from({ length: n }, (_, i) => Math.sin(i + 1));
      const b = Float32Array.from({ length: n }, (_, i) => Math.cos(3 * i));
      let plain = 0;
      for (let i = 0; i < n; i++) plain += a[i]! * b[i]!;
      expect(Math.abs(dotProduct(a, b) - plain)).toBeLessThan(1e-12);
    }
    expect(dotProduct(Float32Array.of(1, 2, 3, 4, 5), Float32Array.of(5, 4, 3, 2, 1))).toBe(35);
  });
});

describe('filtersNothing', () => {
  // Chunks that differ in every field a filter reads.
  const chunks = [
    { town: '梅李镇', role: 'review' as Role, years: [2023] },
    { town: '海虞镇', role: 'plan' as Role, years: [2024] },
  ];
  it('is true for no filter and an empty town list, when every chunk passes; false when a field filters', () => {
    const cases: Array<[StoreFilters | undefined, boolean]> = [
      [undefined, true],
      [{}, true],
      [{ towns: [] }, true],
      [{ towns: ['梅李镇'] }, false],
      [{ role: 'plan' }, false],
      [{ year: 2024 }, false],
      [{ year: 0 }, false],
    ];
    for (const [filters, nothing] of cases) {
      expect(filtersNothing(filters), JSON.stringify(filters)).toBe(nothing);
      expect(chunks.every((c) => passesFilters(c, filters)), JSON.stringify(filters)).toBe(nothing);
    }
  });
});
