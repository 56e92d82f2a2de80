/** Streaming a prepared question: quote by quote without a model, token by token with one, `replace` on a fallback. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECISION_MODEL, DEFAULT_THRESHOLD } from '../../src/answer/decision.js';
import type { Answer } from '../../src/answer/extractive.js';
import { createLlmClient, type LlmClient } from '../../src/answer/llm.js';
import { answerFromRetrieval } from '../../src/answer/retrieved.js';
import { llmUseOf } from '../../src/qa/llm-path.js';
import { answerPieces, streamPrepared, type PreparedQuestion } from '../../src/qa/stream.js';
import type { AskStreamEvent } from '../../src/qa/types.js';
import { passageWith, startScriptedLlm, type ScriptedLlmServer } from '../llm/scripted-llm-server.js';
import { openTestService } from '../services.js';

const QUESTION = '临湖镇2023年计划新增多少个智改数转项目?';
let llm: ScriptedLlmServer;
let client: LlmClient;
let answer: Answer;
let towns: readonly string[];

beforeAll(async () => {
  const { service, embedder } = await openTestService();
  towns = service.towns;
  answer = await answerFromRetrieval(service.index, embedder, QUESTION, { topK: 5, compose: { model: DECISION_MODEL, threshold: DEFAULT_THRESHOLD } });
  llm = await startScriptedLlm();
  client = createLlmClient({ baseUrl: llm.baseUrl, apiKey: 'k', model: 'scripted', timeoutMs: 1500 });
});
afterAll(async () => {
  await llm?.close();
});

const prepared = (llmClient: LlmClient | undefined, rewritten = {}): PreparedQuestion => ({ question: QUESTION, answer, use: llmUseOf(llmClient, undefined), rewritten, knownTowns: towns, started: performance.now() });

async function collect(events: AsyncIterable<AskStreamEvent>): Promise<AskStreamEvent[]> {
  const all: AskStreamEvent[] = [];
  for await (const e of events) all.push(e);
  return all;
}
const deltas = (events: AskStreamEvent[]) => events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));

describe('answerPieces', () => {
  it('cuts after each citation marker (keeping the punctuation that follows it) and loses no character', () => {
    const text = '甲[1];乙[2]。丙[3][4]。';
    expect(answerPieces(text)).toEqual(['甲[1];', '乙[2]。', '丙[3]', '[4]。']);
    expect(answerPieces(text).join('')).toBe(text);
  });
});

describe('streamPrepared', () => {
  it('without a model: meta with the citations first, the quotes as deltas, then done with the whole answer', async () => {
    const events = await collect(streamPrepared(prepared(undefined, { rewrittenQuestion: QUESTION })));
    expect(events[0]).toMatchObject({ type: 'meta', found: answer.found, status: answer.status, mode: 'extractive', rewrittenQuestion: QUESTION });
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    expect(deltas(events).join('')).toBe(answer.answer);
    expect(done.response).toMatchObject({ answer: answer.answer, checks: { llm: 'off' }, rewrittenQuestion: QUESTION });
  });

  it("with a model: its tokens as deltas, adding up to the final answer", async () => {
    llm.play((request) => ({ content: `临湖镇2023年计划新增智改数转项目40个[${passageWith(request, '新增智改数转项目40个')}]。` }));
    const events = await collect(streamPrepared(prepared(client)));
    expect(events[0]).toMatchObject({ type: 'meta', mode: 'llm', status: 'answered' });
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error('no done event');
    expect(done.response).toMatchObject({ mode: 'llm', checks: { llm: 'passed' } });
    expect(deltas(events).length).toBeGreaterThan(1);
    expect(deltas(events).join('')).toBe(done.response.answer);
  });

  it('replaces what the model streamed by the extractive answer when the checks reject it', async () => {
    llm.play(() => ({ content: '临湖镇2023年计划新增智改数转项目99个[1]。' }));
    const events = await collect(streamPrepared(prepared(client)));
    const replace = events.find((e) => e.type === 'replace');
    expect(replace).toEqual({ type: 'replace', text: answer.answer });
    expect(events.at(-1)).toMatchObject({ type: 'done', response: { mode: 'extractive', checks: { llm: 'fallback', reason: 'checks-failed' } } });
  });
});
