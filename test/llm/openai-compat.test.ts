/**
 * /v1/chat/completions and /v1/models through the official `openai` npm client, unmodified:
 * answers with their citations, plain and streaming, follow-ups from the message list, bearer
 * auth, and (with the scripted LLM) streamed text that never shows an unchecked sentence.
 */
import OpenAI, { AuthenticationError, BadRequestError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ID } from '../../src/server/openai-compat.js';
import { openTestService } from '../services.js';
import { openLlmService, serve, type Served } from './llm-service.js';
import { passageWith, startScriptedLlm, type ScriptedLlmServer } from './scripted-llm-server.js';

const QUESTION = '牛塘镇2022年上半年申报了多少家国家高新技术企业?';
const TOKENS = ['token-for-open-webui', 'token-for-lobechat'];

/** The text a streamed completion adds up to, and its last chunk. */
async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let content = '';
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    content += chunk.choices[0]?.delta.content ?? '';
  }
  return { content, chunks, last: chunks.filter((c) => c.choices.length > 0).at(-1)! };
}

describe('OpenAI-compatible endpoint without an LLM', () => {
  let app: Served;
  let client: OpenAI;

  beforeAll(async () => {
    const { service, config } = await openTestService();
    app = await serve(service, config, { apiTokens: TOKENS });
    client = new OpenAI({ baseURL: `${app.base}/v1`, apiKey: TOKENS[1]!, maxRetries: 0 });
  });
  afterAll(() => app?.close());

  it('lists the service as a model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL_ID]);
    expect((await client.models.retrieve(MODEL_ID)).id).toBe(MODEL_ID);
  });

  it('answers with citations and a numbered source list, and the structured citations beside', async () => {
    const completion = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }] });
    expect(completion.object).toBe('chat.completion');
    const content = completion.choices[0]!.message.content!;
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(content).toMatch(/35家.*\[1\]/);
    expect(content).toContain('\n\n**来源**\n\n- **\\[1\\]** 牛塘镇');
    const extra = completion as unknown as { citations: any[]; report_qa: any };
    expect(extra.citations.length).toBeGreaterThan(0);
    expect(extra.citations[0]).toMatchObject({ n: 1, town: '牛塘镇', role: 'review' });
    expect(extra.citations[0].text).toContain('35家');
    expect(extra.report_qa).toMatchObject({ found: true, mode: 'extractive', checks: { llm: 'off' } });
  });

  it('streams the same answer, with the citations on the final chunk', async () => {
    const plain = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }] });
    const stream = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }], stream: true, stream_options: { include_usage: true } });
    const { content, chunks, last } = await collect(stream);
    expect(content).toBe(plain.choices[0]!.message.content);
    expect(chunks.length).toBeGreaterThan(3);
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect((last as unknown as { citations: any[] }).citations[0]).toMatchObject({ n: 1, town: '牛塘镇' });
    expect(chunks.at(-1)!.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('takes earlier messages as history and says what it searched for', async () => {
    const first = await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }] });
    const completion = await client.chat.completions.create({
      model: MODEL_ID,
      messages: [
        { role: 'system', content: 'You are a helpful assistant.' },
        { role: 'user', content: QUESTION },
        { role: 'assistant', content: first.choices[0]!.message.content! },
        { role: 'user', content: [{ type: 'text', text: '梅李镇呢?' }] },
      ],
    });
    const extra = completion as unknown as { report_qa: { rewrittenQuestion: string } };
    expect(extra.report_qa.rewrittenQuestion).toMatch(/^梅李镇.*高新技术企业/);
  });

  it('rejects a missing or wrong token with 401, and a malformed request with 400', async () => {
    const anonymous = new OpenAI({ baseURL: `${app.base}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await expect(anonymous.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }] })).rejects.toBeInstanceOf(AuthenticationError);
    const res = await fetch(`${app.base}/v1/models`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await res.json()).error.code).toBe('E_UNAUTHORIZED');
    await expect(client.chat.completions.create({ model: MODEL_ID, messages: [] })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'assistant', content: 'hi' }] })).rejects.toBeInstanceOf(BadRequestError);
  });
});

describe('OpenAI-compatible endpoint with an LLM', () => {
  let llm: ScriptedLlmServer;
  let app: Served;
  let client: OpenAI;
  const EVIDENCE = '申报国家高新技术企业35家';

  beforeAll(async () => {
    llm = await startScriptedLlm();
    const { service, config } = await openLlmService(llm.baseUrl, 1500);
    app = await serve(service, config);
    client = new OpenAI({ baseURL: `${app.base}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.close();
    await llm?.close();
  });

  it('streams a grounded generated answer, then its sources', async () => {
    const answer = (n: number) => `牛塘镇2022年上半年共申报国家高新技术企业35家[${n}]。同期完成科技型中小型企业认定47家[${n}]。`;
    llm.play((request) => ({ content: answer(passageWith(request, EVIDENCE)) }));
    const { content, last } = await collect(await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }], stream: true }));
    const n = passageWith(llm.requests[0]!, EVIDENCE);
    expect(content.startsWith(`${answer(n)}\n\n**来源**`)).toBe(true);
    expect((last as unknown as { report_qa: any }).report_qa).toMatchObject({ mode: 'llm', checks: { llm: 'passed' } });
  });

  it('never streams a sentence that fails the checks: the checked fallback follows what passed', async () => {
    const good = (n: number) => `牛塘镇2022年上半年共申报国家高新技术企业35家[${n}]。`;
    llm.play((request) => ({ content: `${good(passageWith(request, EVIDENCE))}此外还申报了发明专利300件[${passageWith(request, EVIDENCE)}]。` }));
    const { content, last } = await collect(await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }], stream: true }));
    expect(content).not.toContain('300件');
    expect(content.startsWith(good(passageWith(llm.requests[0]!, EVIDENCE)))).toBe(true);
    const extra = last as unknown as { report_qa: any };
    expect(extra.report_qa).toMatchObject({ mode: 'extractive', checks: { llm: 'fallback', reason: 'checks-failed' } });
    const plainAnswer = (await client.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: QUESTION }] })).choices[0]!.message.content!;
    // The non-streaming reply is the fallback itself (with its sources).
    expect(plainAnswer).not.toContain('300件');
    expect(content.endsWith(plainAnswer.slice(plainAnswer.indexOf('\n\n**来源**')))).toBe(true);
  });
});
