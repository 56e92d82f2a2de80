import { describe, expect, it } from 'vitest';
import { pickSuggestions } from './suggestions.js';

describe('pickSuggestions', () => {
  const answers = [
    { question: 'q1', chunkId: 'a' },
    { question: 'q2', chunkId: null },
    { question: 'q3', chunkId: 'a' },
    { question: 'q4', chunkId: 'b' },
    { question: 'q5', chunkId: 'c' },
  ];

  it('keeps answered candidates in order, one per passage', () => {
    expect(pickSuggestions('甲镇', answers).map((s) => s.question)).toEqual(['q1', 'q4', 'q5']);
    expect(pickSuggestions('甲镇', answers).every((s) => s.town === '甲镇')).toBe(true);
  });

  it('stops at perTown and looks no further than maxTries candidates', () => {
    expect(pickSuggestions('甲镇', answers, { perTown: 2 }).map((s) => s.question)).toEqual(['q1', 'q4']);
    expect(pickSuggestions('甲镇', answers, { maxTries: 3 }).map((s) => s.question)).toEqual(['q1']);
  });
});
