import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createRequestParsers } from '../../src/server/validation.js';

const parsers = createRequestParsers({ maxQuestionChars: 10 });

/** The AppError code a parse throws (fails the test when it does not throw one). */
function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(400);
    return (err as AppError).code;
  }
  throw new Error('expected the parse to throw');
}

describe('parseAskBody', () => {
  it('trims the question and keeps topK and known filters', () => {
    expect(parsers.parseAskBody({ question: '  牛塘镇?\n', topK: 3, filters: { town: '牛塘镇', year: 2022, role: 'plan' } })).toEqual({
      question: '牛塘镇?',
      topK: 3,
      filters: { town: '牛塘镇', year: 2022, role: 'plan' },
    });
  });

  it('leaves out topK and filters the request does not name', () => {
    expect(parsers.parseAskBody({ question: '问题' })).toEqual({ question: '问题' });
    expect(parsers.parseAskBody({ question: '问题', filters: {} })).toEqual({ question: '问题' });
  });

  it('counts characters as code points, so the limit is the same for Chinese, ASCII and emoji', () => {
    expect(parsers.parseAskBody({ question: '镇'.repeat(10) }).question).toHaveLength(10);
    expect(parsers.parseAskBody({ question: '😀'.repeat(10) }).question).toHaveLength(20);
    expect(codeOf(() => parsers.parseAskBody({ question: '镇'.repeat(11) }))).toBe('E_QUESTION_TOO_LONG');
  });

  it('states the limit when the question is too long', () => {
    expect(() => parsers.parseAskBody({ question: 'a'.repeat(11) })).toThrow(/at most 10 characters/);
  });

  it('measures the length after trimming', () => {
    expect(parsers.parseAskBody({ question: `   ${'镇'.repeat(10)}   ` }).question).toBe('镇'.repeat(10));
  });

  it.each([
    ['a missing question', {}, 'E_QUESTION_MISSING'],
    ['a null question', { question: null }, 'E_QUESTION_MISSING'],
    ['an empty question', { question: '' }, 'E_QUESTION_MISSING'],
    ['a whitespace-only question', { question: ' \n\t\u3000 ' }, 'E_QUESTION_MISSING'],
    ['a question that is not a string', { question: 42 }, 'E_BAD_REQUEST'],
    ['a question with a NUL', { question: '牛塘\u0000镇' }, 'E_BAD_REQUEST'],
    ['a question with an escape sequence', { question: '牛塘镇\u001b[31m' }, 'E_BAD_REQUEST'],
    ['a question with a C1 control', { question: '牛塘镇\u0085' }, 'E_BAD_REQUEST'],
    ['a question with a lone surrogate', { question: '牛塘镇\ud800' }, 'E_BAD_REQUEST'],
    ['topK 0', { question: 'q', topK: 0 }, 'E_BAD_REQUEST'],
    ['topK 21', { question: 'q', topK: 21 }, 'E_BAD_REQUEST'],
    ['a fractional topK', { question: 'q', topK: 2.5 }, 'E_BAD_REQUEST'],
    ['topK as a string', { question: 'q', topK: '5' }, 'E_BAD_REQUEST'],
    ['an unknown filter key', { question: 'q', filters: { city: '常州' } }, 'E_UNKNOWN_FILTER'],
    ['the role other', { question: 'q', filters: { role: 'other' } }, 'E_UNKNOWN_FILTER'],
    ['a role that is not a string', { question: 'q', filters: { role: 1 } }, 'E_UNKNOWN_FILTER'],
    ['a year before 1949', { question: 'q', filters: { year: 1900 } }, 'E_BAD_REQUEST'],
    ['a year after 2100', { question: 'q', filters: { year: 2101 } }, 'E_BAD_REQUEST'],
    ['a year as a string', { question: 'q', filters: { year: '2022' } }, 'E_BAD_REQUEST'],
    ['a fractional year', { question: 'q', filters: { year: 2022.5 } }, 'E_BAD_REQUEST'],
    ['an empty town', { question: 'q', filters: { town: ' ' } }, 'E_BAD_REQUEST'],
    ['filters that are not an object', { question: 'q', filters: '牛塘镇' }, 'E_BAD_REQUEST'],
    ['an unknown top-level key', { question: 'q', topk: 3 }, 'E_BAD_REQUEST'],
    ['a body that is an array', [{ question: 'q' }], 'E_BAD_REQUEST'],
    ['a body that is a string', 'q', 'E_BAD_REQUEST'],
  ])('rejects %s', (_name, body, code) => {
    expect(codeOf(() => parsers.parseAskBody(body))).toBe(code);
  });

  it('accepts tabs, line feeds and carriage returns inside a question', () => {
    expect(parsers.parseAskBody({ question: '牛塘\r\n安置\t几套' }).question).toBe('牛塘\r\n安置\t几套');
  });

  it('names the unknown filter and the known ones', () => {
    expect(() => parsers.parseAskBody({ question: 'q', filters: { city: 'x' } })).toThrow(/"city".*town, year, role/);
  });
});

describe('parseSearchQuery', () => {
  it('parses q, k and the filters, trimming q', () => {
    expect(parsers.parseSearchQuery({ q: ' 安置房 ', k: '7', town: '牛塘镇', year: '2022', role: 'review' })).toEqual({
      q: '安置房',
      k: 7,
      filters: { town: '牛塘镇', year: 2022, role: 'review' },
    });
  });

  it('defaults k to 10 and treats empty filter parameters as absent', () => {
    expect(parsers.parseSearchQuery({ q: '安置房', town: '', year: '', role: '' })).toEqual({ q: '安置房', k: 10, filters: {} });
  });

  it.each([
    ['a missing q', {}, 'E_QUESTION_MISSING'],
    ['an empty q', { q: '  ' }, 'E_QUESTION_MISSING'],
    ['a repeated q', { q: ['a', 'b'] }, 'E_BAD_REQUEST'],
    ['a repeated town', { q: 'a', town: ['牛塘镇', '梅李镇'] }, 'E_BAD_REQUEST'],
    ['a repeated k', { q: 'a', k: ['1', '2'] }, 'E_BAD_REQUEST'],
    ['k 0', { q: 'a', k: '0' }, 'E_BAD_REQUEST'],
    ['k 51', { q: 'a', k: '51' }, 'E_BAD_REQUEST'],
    ['a k that is not a number', { q: 'a', k: 'ten' }, 'E_BAD_REQUEST'],
    ['a fractional k', { q: 'a', k: '2.5' }, 'E_BAD_REQUEST'],
    ['a year that is not an integer', { q: 'a', year: '2022年' }, 'E_BAD_REQUEST'],
    ['a year out of range', { q: 'a', year: '3000' }, 'E_BAD_REQUEST'],
    ['the role other', { q: 'a', role: 'other' }, 'E_UNKNOWN_FILTER'],
    ['an unknown parameter', { q: 'a', twon: '牛塘镇' }, 'E_UNKNOWN_FILTER'],
    ['a q over the limit', { q: 'a'.repeat(11) }, 'E_QUESTION_TOO_LONG'],
    ['a q with control characters', { q: 'a\u0007' }, 'E_BAD_REQUEST'],
  ])('rejects %s', (_name, query, code) => {
    expect(codeOf(() => parsers.parseSearchQuery(query))).toBe(code);
  });
});
