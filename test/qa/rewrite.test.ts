/** Follow-up rewriting: standalone by the rules, or by the model within its time, and the rewrittenQuestion field. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmClient } from '../../src/answer/llm.js';
import { rewrittenOf, searchedQuestion, type RewriteScope } from '../../src/qa/rewrite.js';
import { startScriptedLlm, type ScriptedLlmServer } from '../llm/scripted-llm-server.js';
import { openTestService } from '../services.js';

const FIRST = { question: '牛塘镇2022年上半年完成了多少套安置房的初始登记?', answer: '……[1]' };
let scope: RewriteScope;
let llm: ScriptedLlmServer;

beforeAll(async () => {
  const { service } = await openTestService();
  const searchable = service.index;
  scope = { towns: service.towns, segmenter: searchable.tokenizer.segmenter, yearsOf: (t) => searchable.townFacts.get(t)?.coveredYears ?? [], reportYearOf: (t) => searchable.townFacts.get(t)?.reportYear };
  llm = await startScriptedLlm();
});
afterAll(async () => {
  await llm?.close();
});

describe('searchedQuestion', () => {
  it('searches the question itself when there is no history, whatever the model', async () => {
    const client = createLlmClient({ baseUrl: llm.baseUrl, apiKey: 'k', model: 'scripted', timeoutMs: 1000 });
    expect(await searchedQuestion({ question: '梅李镇有多少个网格?' }, scope, client)).toEqual({ question: '梅李镇有多少个网格?', by: 'none' });
    expect(llm.requests).toEqual([]);
  });

  it('carries the town and year of the history over by the rules when no model may answer', async () => {
    const searched = await searchedQuestion({ question: '那下半年呢?', history: [FIRST] }, scope, undefined);
    expect(searched.by).toBe('rules');
    expect(searched.question).toMatch(/^牛塘镇2022年下半年/);
  });

  it('speaks of the town filter rather than the town of the history', async () => {
    const searched = await searchedQuestion({ question: '那下半年呢?', history: [FIRST], filters: { town: '临湖镇' } }, scope, undefined);
    expect(searched.question).toContain('临湖镇');
    expect(searched.question).not.toContain('牛塘镇');
  });

  it("takes the model's standalone rewrite, and the rules' when the model fails", async () => {
    const client = createLlmClient({ baseUrl: llm.baseUrl, apiKey: 'k', model: 'scripted', timeoutMs: 1000 });
    llm.play(() => ({ content: '牛塘镇2022年下半年计划完成多少套安置房的初始登记?' }));
    expect(await searchedQuestion({ question: '那下半年呢?', history: [FIRST] }, scope, client)).toEqual({ question: '牛塘镇2022年下半年计划完成多少套安置房的初始登记?', by: 'llm' });
    llm.play(() => ({ status: 500 }));
    expect((await searchedQuestion({ question: '那下半年呢?', history: [FIRST] }, scope, client)).by).toBe('rules');
  });
});

describe('rewrittenOf', () => {
  it('names the searched question exactly when the request carried history', () => {
    expect(rewrittenOf({}, 'q')).toEqual({});
    expect(rewrittenOf({ history: [] }, 'q')).toEqual({});
    expect(rewrittenOf({ history: [FIRST] }, 'q')).toEqual({ rewrittenQuestion: 'q' });
  });
});
