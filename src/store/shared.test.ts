import { describe, expect, it } from 'vitest';
import { dotProduct } from './shared.js';

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
