import { describe, expect, it } from 'vitest';
import { cleanText } from '../corpus/clean.js';
import { splitIntoChunks } from '../corpus/chunk.js';
import { describeDocument } from '../corpus/structure.js';
import { createTokenizer } from '../text/tokenize.js';
import { assignIds, createSegmenter, extractCommitments, extractResults } from './extract.js';
import { followUpCommitments, laterReviews } from './follow-up.js';

/** Two made-up reports of one town (FICTIONAL, for the mechanics only) and one of another town. */
function report(file: string, town: string, date: string, lines: string[]) {
  const text = lines.join('\n');
  return describeDocument({ file, format: 'txt', hash: file, text }, cleanText(text), { town, date });
}
const INTRO = '各位代表:现在,我代表镇人民政府向大会报告工作,请予审议。本报告为测试编写的虚构材料,数字均为虚构。';
const plan2022 = report('a-2022.txt', '甲镇', '2022-01-10', [
  '甲镇2022年工作计划',
  INTRO,
  '2022年工作计划',
  '年内完成1000套安置房的初始登记。完成东环路新建道路工程。城镇登记失业率控制在3%以内。建成口袋公园5个。完成西山片区规划编制,启动北湖湿地公园建设,确保全镇垃圾分类全覆盖并实现长效管理。',
]);
const review2022 = report('a-2023.txt', '甲镇', '2023-01-12', [
  '甲镇2022年工作总结',
  INTRO,
  '2022年工作回顾',
  '全年完成1000套安置房的初始登记。东环路新建道路工程顺利完工通车。城镇登记失业率为2.6%。建成口袋公园3个,其余2个正在建设。全镇群众满意度持续提升,各项工作取得新的成效,为今年的发展打下了坚实的基础。',
]);
const other = report('b-2022.txt', '乙镇', '2022-02-01', ['乙镇2022年工作计划', INTRO, '2022年工作计划', '完成南河整治工程,新建停车位200个,确保全镇生活污水处理率达到95%以上,让群众的生活更加美好更加幸福。']);

const documents = [plan2022, review2022, other];
const segmenter = createSegmenter(['甲镇', '乙镇']);
const tokenizer = createTokenizer(['甲镇', '乙镇']);
const commitments = assignIds(documents.flatMap((d) => extractCommitments(d, { segmenter, classifyTopic: () => '其他', chunks: splitIntoChunks(d) })), 'c');
const results = assignIds(documents.flatMap((d) => extractResults(d, { segmenter, chunks: splitIntoChunks(d) })), 'r');
const followUps = followUpCommitments(commitments, results, documents, {
  tokenize: (t) => tokenizer.tokenize(t).filter((w) => w.length >= 2 || /\d/.test(w)),
  weightOf: () => 1,
  // A stand-in for the embedding similarity: the mechanics, not the matching quality, are tested here.
  sentenceSimilarity: () => 0.7,
});
const statusOf = (start: string) => {
  const c = commitments.find((x) => x.clause.startsWith(start));
  if (!c) throw new Error(`no commitment ${start}`);
  return followUps.get(c.id)!;
};

describe('laterReviews', () => {
  it('takes review sections of later reports of the same town that cover the year', () => {
    const c = commitments.find((x) => x.docId === 'a-2022')!;
    expect([...new Set(laterReviews(c, documents).map((r) => r.doc.meta.docId))]).toEqual(['a-2023']);
    const b = commitments.find((x) => x.docId === 'b-2022')!;
    expect(laterReviews(b, documents)).toEqual([]);
  });
});

describe('followUpCommitments', () => {
  it('is met when the figure reaches the target, or completion is stated', () => {
    expect(statusOf('年内完成1000套').status).toBe('met');
    expect(statusOf('完成东环路').status).toBe('met');
  });

  it('reads a max target as met when the figure stays within it', () => {
    const f = statusOf('城镇登记失业率控制在3%');
    expect(f.status).toBe('met');
    expect(f.evidence[0]!.checks[0]).toMatchObject({ reached: true, achieved: expect.objectContaining({ value: 2.6 }) });
  });

  it('is partly when the figure falls short', () => {
    const f = statusOf('建成口袋公园5个');
    expect(f.status).toBe('partly');
    expect(f.note).toContain('5个');
  });

  it('is not-reported when a later report exists but says nothing of it', () => {
    expect(statusOf('启动北湖湿地公园建设').status).toBe('not-reported');
  });

  it('is no-later-report when the town has no later report', () => {
    for (const c of commitments.filter((x) => x.town === '乙镇')) expect(followUps.get(c.id)!.status).toBe('no-later-report');
  });
});
