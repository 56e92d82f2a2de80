/**
 * The LLM path of one question: who is asked, what the checks say, which answer stands and what
 * status follows. The extractive answer is the real one; the model is the scripted stand-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from '../../src/answer/extractive.js';
import { createLlmClient, type LlmClient } from '../../src/answer/llm.js';
import { answerFromRetrieval } from '../../src/answer/retrieved.js';
import { DECISION_MODEL, DEFAULT_THRESHOLD } from '../../src/answer/decision.js';
import { asksModel, checksWithoutModel, llmUseOf, outcomeOf, settleWithModel } from '../../src/qa/llm-path.js';
import { passageWith, startScriptedLlm, type ScriptedLlmServer } from '../llm/scripted-llm-server.js';
import { openTestService } from '../services.js';

const QUESTION = '临湖镇2023年计划新增多少个智改数转项目?';
const EVIDENCE = '新增智改数转项目40个';
let llm: ScriptedLlmServer;
let client: LlmClient;
let answered: Answer;
let unanswered: Answer;
let towns: readonly string[];

beforeAll(async () => {
  const { service, embedder } = await openTestService();
  towns = service.towns;
  const compose = { model: DECISION_MODEL, threshold: DEFAULT_THRESHOLD };
  answered = await answerFromRetrieval(service.index, embedder, QUESTION, { topK: 5, compose });
  unanswered = await answerFromRetrieval(service.index, embedder, '临湖镇2023年计划建设几座火星基地?', { topK: 5, compose });
  llm = await startScriptedLlm();
  client = createLlmClient({ baseUrl: llm.baseUrl, apiKey: 'k', model: 'scripted', timeoutMs: 1500 });
});
afterAll(async () => {
  await llm?.close();
});

describe('who is asked', () => {
  it('asks the configured model unless the caller wants the extractive answer, and only when the passages support one', () => {
    expect(llmUseOf(undefined, undefined)).toEqual({ llm: undefined, configured: false });
    expect(llmUseOf(client, undefined)).toEqual({ llm: client, configured: true });
    expect(llmUseOf(client, false)).toEqual({ llm: undefined, configured: true });
    expect(asksModel(llmUseOf(client, true), answered)).toBe(answered.found);
    expect(asksModel(llmUseOf(client, true), unanswered)).toBe(false);
    expect(checksWithoutModel({ configured: false }).llm).toBe('off');
    expect(checksWithoutModel({ configured: true }).llm).toBe('skipped');
  });
});

describe('settleWithModel', () => {
  it('keeps the extractive answer, its status and checks off, without a model', async () => {
    expect(answered.found).toBe(true);
    const settled = await settleWithModel(answered, llmUseOf(undefined, undefined), QUESTION, towns);
    expect(settled).toMatchObject({ answer: answered.answer, mode: 'extractive', status: answered.status, checks: { llm: 'off' } });
    expect(llm.requests).toEqual([]);
  });

  it("gives the model's answer when it passes the checks, its citations without quote offsets", async () => {
    llm.play((request) => ({ content: `临湖镇2023年计划新增智改数转项目40个[${passageWith(request, EVIDENCE)}]。` }));
    const settled = await settleWithModel(answered, llmUseOf(client, true), QUESTION, towns);
    expect(settled).toMatchObject({ mode: 'llm', found: true, checks: { llm: 'passed' } });
    expect(settled.answer).toContain('40个');
    expect(settled.citations.every((c) => c.quote === undefined)).toBe(true);
    expect(outcomeOf(answered, settled.found)).toEqual({ status: 'answered' });
  });

  it('falls back to the extractive answer when the model invents a figure twice', async () => {
    llm.play(() => ({ content: '临湖镇2023年计划新增智改数转项目99个[1]。' }));
    const settled = await settleWithModel(answered, llmUseOf(client, true), QUESTION, towns);
    expect(settled).toMatchObject({ answer: answered.answer, mode: 'extractive', checks: { llm: 'fallback', reason: 'checks-failed' } });
    expect(settled.checks.attempts.length).toBe(2);
  });

  it('leaves an unsupported question unanswered without asking the model', async () => {
    llm.play(() => ({ content: 'should not be asked' }));
    const settled = await settleWithModel(unanswered, llmUseOf(client, true), '临湖镇2023年计划建设几座火星基地?', towns);
    expect(settled).toMatchObject({ found: false, mode: 'extractive', checks: { llm: 'skipped' } });
    expect(llm.requests).toEqual([]);
  });
});

describe('outcomeOf', () => {
  it("keeps the extractive status, unless the model's reply changed whether the question is answered", () => {
    expect(outcomeOf({ found: true, status: 'answered' }, true)).toEqual({ status: 'answered' });
    expect(outcomeOf({ found: false, status: 'not_found', reason: 'other-town' }, false)).toEqual({ status: 'not_found', reason: 'other-town' });
    expect(outcomeOf({ found: true, status: 'answered' }, false)).toEqual({ status: 'not_found', reason: 'low-confidence' });
  });
});
