/**
 * The mechanics of the staff lists (src/feedback/insights.ts): which entries each list takes,
 * grouping within a town, and the CSV. A stand-in embedding (a fixed vector per wording) keeps
 * these about the mechanics; grouping with the real model is tested in api.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { feedbackEntries, groupQuestions, groupsToCsv, unansweredEntries } from '../../src/feedback/insights.js';
import type { FeedbackEntry, StoredEntry, UnansweredEntry } from '../../src/feedback/store.js';

const base = { answer: '…', citations: [], at: '2026-12-01T08:00:00.000Z' };
const unanswered = (answerId: string, question: string, town?: string): UnansweredEntry => ({ kind: 'unanswered', answerId, question, status: 'not_found', ...base, ...(town ? { town } : {}) });
const rated = (answerId: string, question: string, rating: 'up' | 'down', extra: Partial<FeedbackEntry> = {}): FeedbackEntry => ({
  kind: 'feedback',
  answerId,
  question,
  status: 'answered',
  rating,
  ratedAt: '2026-12-01T09:00:00.000Z',
  ...base,
  ...extra,
});

/** Unit vectors: wordings sharing a key point the same way. */
const embedBy = (key: (text: string) => string) => {
  const axes = new Map<string, number>();
  return async (text: string) => {
    const k = key(text);
    if (!axes.has(k)) axes.set(k, axes.size);
    const v = new Float32Array(16);
    v[axes.get(k)!] = 1;
    return v;
  };
};

describe('the staff lists', () => {
  it('lists not-answered and disliked answers once each, a rating superseding the unanswered log line', () => {
    const entries: StoredEntry[] = [
      unanswered('a', '火箭发射场?', '梅李镇'),
      rated('a', '火箭发射场?', 'down', { status: 'not_found', town: '梅李镇' }),
      rated('b', '安置房?', 'up'),
      rated('c', '幼儿园?', 'down'),
      rated('c', '幼儿园?', 'up'),
      unanswered('d', '大米?'),
    ];
    expect(unansweredEntries(entries).map((e) => [e.answerId, e.kind])).toEqual([['a', 'feedback'], ['d', 'unanswered']]);
    // A resident who changed their mind counts once, with the last rating.
    expect(feedbackEntries(entries).map((e) => [e.answerId, e.rating])).toEqual([['a', 'down'], ['b', 'up'], ['c', 'up']]);
  });

  it('groups similar wordings within a town, never across towns, most frequent first', async () => {
    const entries: StoredEntry[] = [
      rated('1', '临湖镇GDP多少', 'down', { town: '临湖镇', feedbackReason: '答案不对', comment: '要2022年的' }),
      rated('2', '临湖镇地区生产总值是多少', 'down', { town: '临湖镇', feedbackReason: '答案不对' }),
      rated('3', '临湖镇GDP多少？', 'down', { town: '临湖镇', ratedAt: '2026-12-02T09:00:00.000Z' }),
      rated('4', '梅李镇GDP多少', 'down', { town: '梅李镇' }),
    ];
    const groups = await groupQuestions(entries, embedBy((t) => (/GDP|生产总值/.test(t) ? 'gdp' : t)));
    expect(groups.map((g) => [g.question, g.count, g.towns])).toEqual([
      ['临湖镇GDP多少', 3, ['临湖镇']],
      ['梅李镇GDP多少', 1, ['梅李镇']],
    ]);
    expect(groups[0]).toMatchObject({ variants: ['临湖镇地区生产总值是多少'], reasons: { 答案不对: 2 }, comments: ['要2022年的'], ratings: { up: 0, down: 3 }, lastAt: '2026-12-02T09:00:00.000Z' });
  });

  it('writes a CSV with a BOM and CRLF that a spreadsheet cannot run as formulas', async () => {
    const groups = await groupQuestions([rated('1', '=HYPERLINK("http://x","点我")', 'down', { comment: '+1, "好"' })], embedBy((t) => t));
    const csv = groupsToCsv(groups);
    expect(csv.startsWith('\uFEFF问题,相似问法,次数,首次,最近,镇（街道）,结果,点赞,点踩,原因,留言\r\n')).toBe(true);
    expect(csv).toContain(`"'=HYPERLINK(""http://x"",""点我"")"`);
    expect(csv).toContain(`"'+1, ""好"""`);
    expect(csv.endsWith('\r\n')).toBe(true);
  });
});
