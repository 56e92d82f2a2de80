/** The one control-character rule of request text: what is refused, what is kept, what is stripped. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasControlChars, stripControlChars } from '../../src/server/text-guards.js';

describe('hasControlChars', () => {
  it('finds C0 and C1 controls and lone surrogates, but allows tab and line breaks in text', () => {
    for (const c of ['\u0000', '\u0008', '\u000B', '\u001F', '\u007F', '\u0085', '\u009F', '\uD800', '\uDFFF']) expect(hasControlChars(`问${c}题`)).toBe(true);
    expect(hasControlChars('第一行\r\n第二行\t完')).toBe(false);
    expect(hasControlChars('梅李镇有多少个网格?😀')).toBe(false);
  });

  it('refuses tab and line breaks too in a single-line value', () => {
    for (const c of ['\t', '\n', '\r']) expect(hasControlChars(`牛塘${c}镇`, { singleLine: true })).toBe(true);
    expect(hasControlChars('牛塘镇', { singleLine: true })).toBe(false);
  });
});

describe('stripControlChars', () => {
  it('leaves text without control characters, and changes nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const stripped = stripControlChars(text);
        expect(hasControlChars(stripped)).toBe(false);
        if (!hasControlChars(text)) expect(stripped).toBe(text);
      }),
    );
  });
});
