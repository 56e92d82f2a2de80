/**
 * The service as an OpenAI-compatible "model", so existing chat front-ends (Open WebUI, LobeChat,
 * NextChat) and the official `openai` client can use it: `GET /v1/models` and
 * `POST /v1/chat/completions` (plain and streaming). The last user message is the question,
 * earlier user/assistant pairs are the history; the reply is the answer with its sources as a
 * Markdown list, and the structured citations ride along in an extra `citations` field.
 * Optional bearer-token auth (config API_TOKENS).
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { Citation } from '../domain/answer.js';
import { checkGrounding, splitAnswerSentences } from '../answer/grounding-checks.js';
import type { AskOutput, AskStreamEvent, QaService } from '../answer/service.js';
import type { AnswerReason, AnswerStatus } from '../domain/answer.js';
import { REASON_LABELS, STATUS_LABELS } from '../domain/labels.js';
import { hasControlChars, stripControlChars } from '../domain/text.js';
import { AppError } from '../errors.js';
import type { HistoryTurn } from '../retrieve/follow-up.js';
import { requireBearer } from './bearer-auth.js';
import { describeError, methodNotAllowed } from './errors.js';
import { HISTORY_ANSWER_MAX_CHARS, HISTORY_MAX_TURNS } from './validation.js';
import { jsonBody } from './hardening.js';
import { openEventStream, primeEvents } from './stream.js';

/** The one model this service offers. */
export const MODEL_ID = 'township-report-qa';
/** When the model "was created", for clients that sort by it (fixed: the id names no version). */
const MODEL_CREATED = 1_700_000_000;

/** Chat front-ends send whole conversations, answers and sources included. */
const BODY_LIMIT = '512kb';

/** Heads the sources list appended to every answer; cut off again when the answer comes back as history. */
const SOURCES_HEADING = '**来源**';
const NEAREST_HEADING = '**最接近的段落(仅供参考)**';

export interface OpenAiRoutesOptions {
  /** The loaded service; throws the 503 AppError while none is. */
  requireService: () => QaService;
  /** Longest question (the last user message), in characters. */
  maxQuestionChars: number;
  defaultTopK: number;
  /** Accepted bearer tokens; empty: no auth. */
  apiTokens: readonly string[];
  /** Shapes a citation for clients (drops internals), as /api/ask does. */
  citation: (c: Citation) => Citation;
  logger: Logger;
}

/** Routes mounted at /v1. */
export function createOpenAiRoutes(options: OpenAiRoutesOptions): Router {
  const router = Router();
  router.use(bearerAuth(options.apiTokens));

  router
    .route('/models')
    .get((_req, res) => {
      res.json({ object: 'list', data: [modelCard()] });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router.get('/models/:id', (req, res) => {
    if (req.params['id'] !== MODEL_ID) throw new AppError('E_NOT_FOUND', `models: no model with that id; the one model is "${MODEL_ID}"`, { status: 404 });
    res.json(modelCard());
  });

  router
    .route('/chat/completions')
    .post(...jsonBody(BODY_LIMIT), async (req, res) => {
      const service = options.requireService();
      const request = parseChatRequest(req.body, options.maxQuestionChars);
      const input = { question: request.question, topK: options.defaultTopK, ...(request.history.length > 0 ? { history: request.history } : {}) };
      const id = `chatcmpl-${randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      if (!request.stream) {
        const { diagnostics, ...output } = await service.ask(input);
        options.logger.info({ route: 'v1', found: output.found, mode: output.mode, llm: output.checks.llm, reason: diagnostics.reason, tookMs: output.tookMs }, 'answered');
        const content = `${statusLine(output)}${sanitize(output.answer)}${sourcesOf(output)}`;
        res.json({
          id,
          object: 'chat.completion',
          created,
          model: MODEL_ID,
          choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
          usage: usageOf(request.question, content),
          ...extrasOf(output, options.citation),
        });
        return;
      }
      await streamCompletion(res, {
        // Validation the service does (no index, bad filters) answers as JSON, before any header.
        events: await primeEvents(service.askStream(input)),
        towns: service.towns,
        id,
        created,
        includeUsage: request.includeUsage,
        question: request.question,
        citation: options.citation,
      });
    })
    .all(methodNotAllowed('POST'));

  return router;
}

function modelCard() {
  return { id: MODEL_ID, object: 'model', created: MODEL_CREATED, owned_by: 'township-report-qa' };
}

/** The structured part of an answer, beside the OpenAI fields. */
function extrasOf(output: AskOutput, citation: (c: Citation) => Citation) {
  return {
    citations: output.citations.map(citation),
    report_qa: {
      found: output.found,
      status: output.status,
      ...(output.reason ? { reason: output.reason } : {}),
      mode: output.mode,
      checks: output.checks,
      ...(output.rewrittenQuestion !== undefined ? { rewrittenQuestion: output.rewrittenQuestion } : {}),
      tookMs: output.tookMs,
    },
  };
}

/** Token counts are not what this service spends; characters stand in so clients have numbers. */
function usageOf(question: string, content: string) {
  const prompt = [...question].length;
  const completion = [...content].length;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

// ---------------------------------------------------------------------------------------------
// Request

interface ChatRequest {
  question: string;
  history: HistoryTurn[];
  stream: boolean;
  includeUsage: boolean;
}

const bad = (message: string, code: 'E_BAD_REQUEST' | 'E_QUESTION_MISSING' | 'E_QUESTION_TOO_LONG' = 'E_BAD_REQUEST') => new AppError(code, message, { status: 400 });

/** Text of a message's content: a string, or the text parts of a content array (images are ignored). */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) => (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
      .join('');
  }
  return undefined;
}

/** An earlier answer as history: without the sources list it came with, bounded, clean. */
function historyAnswer(content: string): string {
  const cut = [SOURCES_HEADING, NEAREST_HEADING].map((h) => content.indexOf(`\n\n${h}`)).filter((i) => i >= 0);
  const answer = cut.length > 0 ? content.slice(0, Math.min(...cut)) : content;
  return [...stripControlChars(answer).trim()].slice(0, HISTORY_ANSWER_MAX_CHARS).join('');
}

/**
 * Validates a chat-completions body. Unknown parameters (temperature, max_tokens, user …) are
 * accepted and ignored, as front-ends send them; system messages are the front-end's own and
 * are ignored too. The question obeys the /api/ask rules.
 */
export function parseChatRequest(body: unknown, maxQuestionChars: number): ChatRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body: must be a JSON object with "messages"');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b['messages']) || b['messages'].length === 0) throw bad('messages: must be a non-empty array of {role, content}');
  if (b['stream'] !== undefined && b['stream'] !== null && typeof b['stream'] !== 'boolean') throw bad('stream: must be a boolean');
  if (b['n'] !== undefined && b['n'] !== null && b['n'] !== 1) throw bad('n: only 1 is supported');
  const messages: Array<{ role: string; text: string }> = [];
  for (const [i, m] of (b['messages'] as unknown[]).entries()) {
    if (!m || typeof m !== 'object') throw bad(`messages[${i}]: must be an object {role, content}`);
    const role = (m as { role?: unknown }).role;
    if (typeof role !== 'string') throw bad(`messages[${i}].role: must be a string`);
    const text = textOf((m as { content?: unknown }).content);
    if (text === undefined) throw bad(`messages[${i}].content: must be a string or an array of parts`);
    messages.push({ role, text });
  }
  const last = messages.at(-1)!;
  if (last.role !== 'user') throw bad('messages: the last message must be the user\'s question');
  const question = last.text.trim();
  if (question === '') throw bad('messages: the last user message is empty', 'E_QUESTION_MISSING');
  const length = [...question].length;
  if (length > maxQuestionChars) throw bad(`messages: the question may have at most ${maxQuestionChars} characters, got ${length}`, 'E_QUESTION_TOO_LONG');
  if (hasControlChars(question)) throw bad('messages: the question contains control characters');

  // Earlier user messages, each with the assistant reply that followed it.
  const history: HistoryTurn[] = [];
  for (let i = 0; i < messages.length - 1; i++) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const q = [...stripControlChars(m.text).trim()].slice(0, maxQuestionChars).join('');
    if (!q) continue;
    const next = messages[i + 1];
    history.push({ question: q, answer: next?.role === 'assistant' ? historyAnswer(next.text) : '' });
  }
  const options = b['stream_options'];
  const includeUsage = !!options && typeof options === 'object' && (options as { include_usage?: unknown }).include_usage === true;
  return { question, history: history.slice(-HISTORY_MAX_TURNS), stream: b['stream'] === true, includeUsage };
}

// ---------------------------------------------------------------------------------------------
// Response text

/** Markdown characters that would turn passage text into formatting or links. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>#|]/g, (c) => `\\${c}`).replace(/\s+/g, ' ');
}

/**
 * The answer as Markdown that cannot fetch anything: a front-end renders links and images, and
 * an image URL is how an injected instruction would smuggle data out. [n] markers stay.
 */
export function sanitize(answer: string): string {
  return answer.replace(/!\[/g, '!\\[').replace(/\]\(/g, ']\\(').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The passage numbers an answer cites, in order of first mention. */
function citedIn(answer: string): number[] {
  const seen: number[] = [];
  for (const m of answer.normalize('NFKC').matchAll(/\[(\d{1,3}(?:\s*[,、]\s*\d{1,3})*)\]/g)) {
    for (const n of m[1]!.split(/[,、]/).map((x) => Number.parseInt(x.trim(), 10))) if (!seen.includes(n)) seen.push(n);
  }
  return seen;
}

/**
 * The outcome said before a refusal, so a chat front-end shows a partial answer as neither an
 * answer nor nothing: **部分回答**(只有目标,没有完成情况) or **未找到依据**(报告未提及).
 */
export function statusLine(output: { status?: AnswerStatus; reason?: AnswerReason }): string {
  if (!output.status || output.status === 'answered') return '';
  return `**${STATUS_LABELS[output.status]}**${output.reason ? `(${REASON_LABELS[output.reason]})` : ''}\n\n`;
}

/** The numbered source list appended to an answer: the cited passages, with a quoted excerpt. */
export function sourcesOf(output: Pick<AskOutput, 'answer' | 'found' | 'citations'> & { status?: AnswerStatus }): string {
  const cited = citedIn(output.answer);
  const listed = (output.found || output.status === 'partial') && cited.length > 0 ? cited.map((n) => output.citations.find((c) => c.n === n)).filter((c): c is Citation => !!c) : output.citations;
  if (listed.length === 0) return '';
  const heading = output.found || (output.status === 'partial' && cited.length > 0) ? SOURCES_HEADING : NEAREST_HEADING;
  const lines = listed.map((c) => {
    const where = [c.section, c.date].filter(Boolean).join(',');
    const excerpt = c.text.length > 160 ? `${c.text.slice(0, 160)}…` : c.text;
    return `- **\\[${c.n}\\]** ${escapeMarkdown(c.town)}《${escapeMarkdown(c.title)}》${where ? `(${escapeMarkdown(where)})` : ''}\n  > ${escapeMarkdown(excerpt)}`;
  });
  return `\n\n${heading}\n\n${lines.join('\n')}`;
}

// ---------------------------------------------------------------------------------------------
// Streaming

/** Sentence ends in a model's raw output (full-width or not), with what may follow them. */
const RAW_END = /[。！？!?\n]/g;
const RAW_TAIL = /^(?:[”’」』)）"' \t]|[[【［]\s*\d{1,3}(?:\s*[,、，,]\s*\d{1,3})*\s*[\]】］])+/;

/**
 * Lets a model's streamed text through a sentence at a time, and only sentences that pass the
 * grounding checks on their own: a chat front-end cannot take text back, so nothing unchecked is
 * shown. The first sentence that fails holds everything after it until the final verdict.
 */
export function createSentenceGate(passages: readonly Citation[], towns: readonly string[]) {
  let buffer = '';
  let released = 0;
  let blocked = false;
  return {
    /** Adds streamed text; returns what may be shown now. */
    push(text: string): string {
      buffer += text;
      if (blocked) return '';
      let out = '';
      for (;;) {
        RAW_END.lastIndex = released;
        const end = RAW_END.exec(buffer);
        if (!end) break;
        let stop = end.index + 1;
        const tail = RAW_TAIL.exec(buffer.slice(stop));
        if (tail) stop += tail[0].length;
        // Whatever follows could still be a marker of this sentence: wait for one more character.
        if (stop >= buffer.length && end[0] !== '\n') break;
        const sentence = buffer.slice(released, stop);
        if (splitAnswerSentences(sentence).length > 0 && !checkGrounding({ answer: sentence, passages, knownTowns: towns }).passed) {
          blocked = true;
          break;
        }
        out += sentence;
        released = stop;
      }
      return out;
    },
    /** What has been shown so far. */
    get shown(): string {
      return buffer.slice(0, released);
    },
  };
}

interface StreamContext {
  events: AsyncIterable<AskStreamEvent>;
  towns: readonly string[];
  id: string;
  created: number;
  includeUsage: boolean;
  question: string;
  citation: (c: Citation) => Citation;
}

/** Writes the answer as chat.completion.chunk events, then `data: [DONE]`. */
async function streamCompletion(res: Response, ctx: StreamContext): Promise<void> {
  const isClosed = openEventStream(res);
  const base = { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: MODEL_ID };
  const send = (data: unknown) => {
    if (!isClosed()) res.write(`data: ${JSON.stringify(data)}\n\n`);
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: object = {}) =>
    send({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra });

  chunk({ role: 'assistant', content: '' });
  let content = '';
  const emit = (text: string) => {
    if (!text) return;
    content += text;
    chunk({ content: text });
  };
  try {
    let gate: ReturnType<typeof createSentenceGate> | undefined;
    for await (const event of ctx.events) {
      if (isClosed()) break;
      if (event.type === 'meta') {
        // Extractive text is verbatim quotation: it streams as it is. A model's text is gated.
        gate = event.mode === 'llm' ? createSentenceGate(event.citations, ctx.towns) : undefined;
        emit(statusLine(event));
      } else if (event.type === 'delta') {
        emit(sanitize(gate ? gate.push(event.text) : event.text));
      } else if (event.type === 'replace') {
        // Whatever was let through passed the checks on its own; the rest comes from the final text.
        const shown = gate?.shown ?? '';
        gate = undefined;
        emit(sanitize(event.text.startsWith(shown) ? event.text.slice(shown.length) : `${shown ? '\n\n' : ''}${event.text}`));
      } else if (event.type === 'done') {
        const output = event.response;
        if (gate) {
          const shown = gate.shown;
          emit(sanitize(output.answer.startsWith(shown) ? output.answer.slice(shown.length) : `${shown ? '\n\n' : ''}${output.answer}`));
        }
        emit(sourcesOf(output));
        chunk({}, 'stop', extrasOf(output, ctx.citation));
        if (ctx.includeUsage) send({ ...base, choices: [], usage: usageOf(ctx.question, content) });
      }
    }
  } catch (err) {
    // Headers are gone: the error goes out as one more event, in OpenAI's error shape.
    const { code, message } = describeError(err);
    send({ error: { message, type: 'server_error', code } });
  }
  if (!isClosed()) res.write('data: [DONE]\n\n');
  res.end();
}

// ---------------------------------------------------------------------------------------------
// Auth

/** Requires `Authorization: Bearer <one of tokens>` when tokens are configured. */
function bearerAuth(tokens: readonly string[]): RequestHandler {
  return requireBearer({ tokens, realm: 'township-report-qa', message: 'authorization: a valid API token is required (Authorization: Bearer <token>)' });
}

