import { describe, expect, it } from 'vitest';
import { cleanText } from '../corpus/clean.js';
import { describeDocument } from '../corpus/structure.js';
import type { LoadedFile } from '../domain/types.js';
import { assignIds, createSegmenter, extractCommitments, extractResults, type TopicClassifier } from './extract.js';

/** A made-up report in the genre: a review part and a plan part. */
const REPORT = [
  '测试镇2022年工作总结及2023年工作计划',
  '各位代表:现在,我代表镇人民政府向大会报告工作,请予审议。这是为测试编写的虚构报告,数字均为虚构。',
  '2022年工作回顾',
  '一年来,全镇完成东环路新建道路工程,建成生态美丽河湖6条,累计完成安置房交付1200套。西环路改造工程正在推进。',
  '2023年工作计划',
  '2023年是全面贯彻党的二十大精神的开局之年,做好今年工作意义重大。',
  '一、加快城乡建设',
  '点燃城乡建设“助推器”。完成南环路新建道路工程,启动将军路、华联路等新建道路项目,构建内通外达的交通格局。年内完成1364套安置房的初始登记和分割发证。深入推进“333”提质增效达标区创建、完成沙泥泾等劣类河道整治8条、建成生态美丽河湖10条。新增省、市级示范智能车间和工厂3个,星级“上云”企业10家。',
  '二、增进民生福祉',
  '坚持就业优先不动摇,提升群众生活品质。力争高校毕业生就业率95%以上,让全镇群众的获得感、幸福感、安全感更加充实、更有保障、更可持续。',
].join('\n');

const loaded: LoadedFile = { file: 'test-2023.txt', format: 'txt', hash: 'x', text: REPORT };
const doc = describeDocument(loaded, cleanText(REPORT), { town: '测试镇', date: '2023-01-10' });
const segmenter = createSegmenter(['测试镇']);
/** A stand-in for the embedding classifier: extraction mechanics only. */
const classifyTopic: TopicClassifier = ({ clause }) => (/路/.test(clause) ? '交通' : /河/.test(clause) ? '生态环境' : '其他');
const commitments = assignIds(extractCommitments(doc, { segmenter, classifyTopic }), 'c');
const clauses = commitments.map((c) => c.clause);

describe('extractCommitments', () => {
  it('keeps several commitments of one sentence, each with its own verb', () => {
    expect(clauses).toContain('完成南环路新建道路工程');
    expect(clauses).toContain('启动将军路、华联路等新建道路项目');
    const road = commitments.find((c) => c.clause === '完成南环路新建道路工程')!;
    const next = commitments.find((c) => c.clause.startsWith('启动将军路'))!;
    expect(road.sentenceStart).toBe(next.sentenceStart);
    expect(road.id).not.toBe(next.id);
  });

  it('leaves out aims with an abstract object, run-in sub-headings and the preamble', () => {
    expect(clauses.some((c) => c.includes('交通格局'))).toBe(false);
    expect(clauses.some((c) => c.includes('助推器'))).toBe(false);
    expect(clauses.some((c) => c.includes('开局之年') || c.includes('意义重大'))).toBe(false);
    expect(clauses.some((c) => c.includes('就业优先') || c.includes('生活品质'))).toBe(false);
  });

  it('splits clauses joined by 、 when each has its own verb, and keeps their figures apart', () => {
    const rivers = commitments.filter((c) => c.sentence.startsWith('深入推进“333”'));
    expect(rivers.map((c) => c.clause)).toEqual(['深入推进“333”提质增效达标区创建', '完成沙泥泾等劣类河道整治8条', '建成生态美丽河湖10条']);
    expect(rivers.map((c) => c.targets.map((t) => `${t.value}${t.unit}`))).toEqual([[], ['8条'], ['10条']]);
  });

  it('adds the figures of a clause without a verb to the commitment before it', () => {
    const factories = commitments.find((c) => c.clause.startsWith('新增省、市级示范智能车间'))!;
    expect(factories.targets.map((t) => [t.value, t.unit])).toEqual([
      [3, '个'],
      [10, '家'],
    ]);
    expect(factories.clause).toBe('新增省、市级示范智能车间和工厂3个,星级“上云”企业10家');
  });

  it('records action, firmness, deadline and the plan year', () => {
    const housing = commitments.find((c) => c.clause.includes('1364套'))!;
    expect(housing).toMatchObject({ action: '完成', firmness: 'deliverable', deadline: '年内', year: 2023, town: '测试镇', role: 'plan' });
    expect(housing.targets).toEqual([expect.objectContaining({ value: 1364, unit: '套', what: '安置房' })]);
    const jobs = commitments.find((c) => c.clause.includes('就业率'))!;
    expect(jobs).toMatchObject({ action: '力争', firmness: 'effort' });
    expect(jobs.targets[0]).toMatchObject({ value: 95, unit: '%', qualifier: 'min' });
    expect(commitments.find((c) => c.clause.startsWith('深入推进“333”'))).toMatchObject({ action: '推进', firmness: 'effort' });
  });

  it('cites the clause and its sentence by offsets into the cleaned text', () => {
    for (const c of commitments) {
      expect(doc.text.slice(c.start, c.end)).toBe(c.clause);
      expect(doc.text.slice(c.sentenceStart, c.sentenceEnd)).toBe(c.sentence);
      for (const t of c.targets) expect(doc.text.slice(t.start, t.end)).toBe(t.text);
    }
  });

  it('asks the classifier for each commitment’s topic', () => {
    expect(commitments.find((c) => c.clause === '完成南环路新建道路工程')!.topic).toBe('交通');
    expect(commitments.find((c) => c.clause === '建成生态美丽河湖10条')!.topic).toBe('生态环境');
  });

  it('reads nothing from review sections', () => {
    expect(clauses.some((c) => c.includes('东环路') || c.includes('西环路'))).toBe(false);
  });
});

describe('extractResults', () => {
  const results = extractResults(doc, { segmenter });

  it('reads achieved figures and completions from review sections only', () => {
    expect(results.every((r) => r.role === 'review')).toBe(true);
    const road = results.find((r) => r.clause.includes('东环路'))!;
    expect(road.completed).toBe(true);
    const rivers = results.find((r) => r.clause.includes('河湖'))!;
    expect(rivers).toMatchObject({ completed: true });
    expect(rivers.targets.map((t) => [t.value, t.unit])).toEqual([[6, '条']]);
    expect(results.find((r) => r.clause.includes('1200套'))!.targets[0]).toMatchObject({ value: 1200, unit: '套' });
  });

  it('does not take work in progress for completion', () => {
    expect(results.find((r) => r.clause.includes('西环路'))!.completed).toBe(false);
  });
});
