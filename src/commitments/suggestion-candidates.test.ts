import { describe, expect, it } from 'vitest';
import type { DocumentView } from '../qa/types.js';
import { suggestionCandidates } from './suggestion-candidates.js';

type Doc = DocumentView;

function doc(town: string, years: number[], sections: Array<[string, string[], 'review' | 'plan' | 'other', number[]]>, text = ''): Doc {
  return {
    docId: town,
    file: `${town}.txt`,
    format: 'txt',
    hash: '',
    title: `${town}工作报告`,
    town,
    district: '',
    date: String(years[0]),
    years,
    chunks: 1,
    text,
    sections: sections.map(([heading, path, role, ys]) => ({ heading, path: [...path, heading], role, years: ys, start: 0, end: text.length })),
  };
}

describe('suggestionCandidates', () => {
  it('turns section headings into questions about the town, its period and the topic, plan and review alternating', () => {
    const candidates = suggestionCandidates([
      doc('牛塘镇', [2022], [
        ['2022年上半年工作回顾', [], 'review', [2022]],
        ['二、克难求进,经济发展保持稳健态势', ['2022年上半年工作回顾'], 'review', [2022]],
        ['2022年下半年主要工作任务', [], 'plan', [2022]],
        ['一、抢先布局,加速推动产业高质量发展', ['2022年下半年主要工作任务'], 'plan', [2022]],
        ['四、标本兼治,生态环境刷新更优颜值', ['2022年上半年工作回顾'], 'review', [2022]],
      ]),
    ]);
    expect(candidates.map((c) => c.question)).toEqual([
      '牛塘镇2022年下半年经济发展有什么打算?',
      '牛塘镇2022年上半年经济发展做了哪些工作?',
      '牛塘镇2022年上半年生态环境做了哪些工作?',
    ]);
    expect(candidates.every((c) => c.town === '牛塘镇')).toBe(true);
  });

  it('looks back at the earliest year in a review and ahead to the latest in a plan', () => {
    const candidates = suggestionCandidates([
      doc('临湖镇', [2022, 2023], [
        ['一、全力以赴稳增长,更快速度优化产业体系', ['二〇二三年工作目标和任务'], 'plan', [2022, 2023]],
        ['(一)聚力乡村振兴', ['一、2022年工作回顾'], 'review', [2022, 2023]],
      ]),
    ]);
    expect(candidates.map((c) => c.question)).toEqual(['临湖镇2023年经济发展有什么打算?', '临湖镇2022年乡村振兴做了哪些工作?']);
  });

  it('offers everyday topics a plan mentions in its text, once per town, and skips sections of no role', () => {
    const text = '计划新增养老床位80张，建成幼儿园1所。';
    const candidates = suggestionCandidates([doc('梅李镇', [2023], [['一、民生', [], 'plan', [2023]], ['说明', [], 'other', [2023]]], text)]);
    expect(candidates.map((c) => c.question)).toEqual(['梅李镇2023年民生有什么打算?', '梅李镇2023年养老有什么打算?', '梅李镇2023年教育有什么打算?']);
  });
});
