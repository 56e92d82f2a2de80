/**
 * What users see, with the real model over the real index of the shipped corpus: clean
 * passages, plan and result questions answered from the right kind of section, honest
 * abstention, citations that point back into the documents.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../src/qa/service.js';
import { openTestService } from './services.js';

let service: QaService;

beforeAll(async () => {
  ({ service } = await openTestService());
});

describe('the index built from the shipped corpus', () => {
  it('holds the five reports with their metadata', () => {
    const docs = Object.fromEntries(service.listDocuments().map((d) => [d.file, d]));
    expect(Object.keys(docs).sort()).toEqual([
      'dianshanhu-2020-work-report.txt',
      'linhu-2022-summary-2023-plan.txt',
      'meili-2023-reform-plan.txt',
      'niutang-2022-midyear-report.txt',
      'tianshenggang-2022-summary-2023-plan.txt',
    ]);
    expect(docs['niutang-2022-midyear-report.txt']).toMatchObject({ town: '牛塘镇', district: '常州市武进区', date: '2022-07-14' });
    expect(docs['dianshanhu-2020-work-report.txt']).toMatchObject({ town: '淀山湖镇', district: '昆山市', date: '2020-01-16', years: [2019, 2020] });
  });

  it('never lets the injected gambling spam or page furniture reach a passage or a document', async () => {
    const spam = /365体育|体育直播|体育彩票|竞猜网投|网投/;
    const furniture = /打印此页|关闭窗口|扫一扫在手机打开当前页|访问量|浏览量|主办单位|ICP备|您当前所在位置|【字体|网站标识码/;
    for (const summary of service.listDocuments()) {
      const doc = (await service.getDocument(summary.docId))!;
      expect(doc.text).not.toMatch(spam);
      expect(doc.text).not.toMatch(furniture);
    }
  });
});

describe('answers', () => {
  it('answers a result question from a review section, with the figure and its citation', async () => {
    const res = await service.ask({ question: '牛塘镇2022年上半年申报了多少家国家高新技术企业?' });
    expect(res.found).toBe(true);
    expect(res.answer).toContain('35家');
    expect(res.answer).toMatch(/\[1\]/);
    expect(res.citations[0]).toMatchObject({ town: '牛塘镇', role: 'review' });
    expect(res.citations[0]!.text).toContain('申报国家高新技术企业35家');
  });

  it('answers a commitment question from a plan section', async () => {
    const res = await service.ask({ question: '牛塘镇下半年还要对多少条小微水体进行综合治理?' });
    expect(res.found).toBe(true);
    expect(res.answer).toContain('35条');
    const cited = res.citations.find((c) => c.text.includes('剩余35条小微水体'))!;
    expect(cited.role).toBe('plan');
    expect(cited.section).toContain('2022年下半年主要工作任务');
  });

  it('tells a plan from a result for the same town: 2019 results and 2020 targets of 淀山湖镇', async () => {
    const plan = await service.ask({ question: '2020年淀山湖镇计划完成多少工业投资?' });
    expect(plan.answer).toContain('4亿元');
    expect(plan.citations.find((c) => c.text.includes('计划完成工业投资4亿元'))?.role).toBe('plan');
    const result = await service.ask({ question: '淀山湖镇2019年关停了多少家“三高一低”企业?' });
    expect(result.answer).toContain('22家');
    expect(result.citations[0]!.role).toBe('review');
  });

  it('says plainly when the reports never mention something', async () => {
    const res = await service.ask({ question: '梅李镇2023年计划新增多少个公共停车泊位?' });
    expect(res.found).toBe(false);
    expect(res.answer).toMatch(/没有找到|没有关于|不涉及|没有提到/);
    expect(res.answer).not.toMatch(/\[\d+\]/);
  });

  it('does not answer one town’s question with another town’s figure', async () => {
    // 临湖镇 plans 1600亩 of 高标准农田; 天生港镇街道's reports never mention it.
    const res = await service.ask({ question: '天生港镇街道2023年打算新增多少亩高标准农田?' });
    expect(res.found).toBe(false);
    expect(res.answer).not.toContain('1600');
    for (const c of res.citations) expect(c.town).toBe('天生港镇街道');
  });

  it('does not answer for a year no report covers', async () => {
    const res = await service.ask({ question: '牛塘镇2021年全年的一般公共预算收入是多少?' });
    expect(res.found).toBe(false);
    expect(res.answer).toContain('2021');
  });

  it('does not answer for a town the corpus has no report of', async () => {
    const res = await service.ask({ question: '周庄镇2023年计划建设多少公里道路?' });
    expect(res.found).toBe(false);
    expect(res.answer).toContain('周庄镇');
  });

  it('finds the town from the question alone when it is named only indirectly', async () => {
    const res = await service.ask({ question: '苏州太湖现代农业示范园2022年获得了什么全国性荣誉?' });
    expect(res.found).toBe(true);
    expect(res.answer).toContain('五星级园区');
    expect(res.citations[0]!.town).toBe('临湖镇');
  });

  it('cites passages whose offsets point into the cleaned document text, best first', async () => {
    const res = await service.ask({ question: '天生港镇街道2022年排查化解了多少起矛盾纠纷?' });
    const scores = res.citations.map((c) => c.n);
    expect(scores).toEqual(res.citations.map((_, i) => i + 1));
    for (const c of res.citations) {
      const doc = (await service.getDocument(c.docId))!;
      expect(doc.text.slice(c.start, c.end)).toBe(c.text);
      if (c.quote) expect(c.text).toContain(doc.text.slice(c.quote.start, c.quote.end));
    }
  });

  it('honours a town filter and a role filter', async () => {
    const res = await service.search('高新技术企业', 10, { town: '临湖镇', role: 'review' });
    expect(res.results.length).toBeGreaterThan(0);
    for (const p of res.results) expect(p).toMatchObject({ town: '临湖镇', role: 'review' });
  });

  it('rejects an unknown town filter', async () => {
    await expect(service.ask({ question: '有多少家企业?', filters: { town: '不存在镇' } })).rejects.toMatchObject({ code: 'E_UNKNOWN_FILTER' });
  });
});

describe('the LangChain retriever', () => {
  it('returns Documents with the passage text and citation metadata', async () => {
    const docs = await (await service.asRetriever({ k: 3 })).invoke('临湖镇2023年计划新增多少个智改数转项目?');
    expect(docs).toHaveLength(3);
    expect(docs.some((d) => d.pageContent.includes('新增智改数转项目40个'))).toBe(true);
    expect(docs[0]!.metadata).toMatchObject({ town: '临湖镇', docId: 'linhu-2022-summary-2023-plan' });
  });
});
