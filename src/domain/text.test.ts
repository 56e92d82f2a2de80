/** Tests for the control-character rule: what text from outside may hold, for every boundary. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasControlChars, stripControlChars } from './text.js';

describe('hasControlChars', () => {
  it('refuses C0 and C1 controls, DEL and lone surrogates, but not tab or line breaks in text', () => {
    for (const c of ['\u0000', '\u0007', '\u000B', '\u000C', '\u001B', '\u007F', '\u0085', '\u009F', '\uD800', '\uDFFF']) expect(hasControlChars(`问${c}题`), JSON.stringify(c)).toBe(true);
    for (const ok of ['第一行\r\n第二行', '\t缩进', '梅李镇2023年', '😀 emoji', '']) expect(hasControlChars(ok), JSON.stringify(ok)).toBe(false);
  });

  it('refuses tab and line breaks too in one-line values', () => {
    for (const c of ['\t', '\n', '\r']) expect(hasControlChars(`a${c}b`, { lineBreaks: false })).toBe(true);
    expect(hasControlChars('梅李镇', { lineBreaks: false })).toBe(false);
  });
});

describe('stripControlChars', () => {
  it('leaves text that hasControlChars accepts, and only that, unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.boolean(), (text, lineBreaks) => {
        const stripped = stripControlChars(text, { lineBreaks });
        return !hasControlChars(stripped, { lineBreaks }) && (stripped === text) === !hasControlChars(text, { lineBreaks });
      }),
    );
  });

  it('keeps tab and line breaks unless told otherwise', () => {
    expect(stripControlChars('a\u0000\tb\r\nc\u0085')).toBe('a\tb\r\nc');
    expect(stripControlChars('a\tb\nc', { lineBreaks: false })).toBe('abc');
  });
});
