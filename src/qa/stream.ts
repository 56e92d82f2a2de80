/**
 * Streaming one prepared question: the events of QaService.askStream (see AskStreamEvent). An
 * extractive answer goes out quote by quote; a model's answer token by token as it is generated,
 * with `replace` when the checks reject it and the fallback takes its place.
 */
import type { Answer } from '../answer/extractive.js';
import { generateGroundedAnswer, settleAnswer } from '../answer/grounded.js';
import { asksModel, checksWithoutModel, outcomeOf, type LlmUse } from './llm-path.js';
import type { AskOutput, AskStreamEvent } from './types.js';

/** Splits an extractive answer after each citation marker, so it can be streamed quote by quote. */
export function answerPieces(answer: string): string[] {
  return answer.split(/(?<=\]|\][;。])(?=[^;。\]])/).filter(Boolean);
}

/** The events of an answer already settled (a cached one): meta, its quotes as deltas, done. */
export function* eventsOfResponse(response: AskOutput): Generator<AskStreamEvent> {
  const rewritten = response.rewrittenQuestion !== undefined ? { rewrittenQuestion: response.rewrittenQuestion } : {};
  yield { type: 'meta', found: response.found, status: response.status, ...(response.reason ? { reason: response.reason } : {}), mode: response.mode, citations: response.citations, ...rewritten };
  for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
  yield { type: 'done', response };
}

/** A prepared question: the standalone question searched, its extractive answer, the model's part. */
export interface PreparedQuestion {
  question: string;
  answer: Answer;
  use: LlmUse;
  /** The response's rewrittenQuestion field (see rewrite.ts rewrittenOf). */
  rewritten: { rewrittenQuestion?: string };
  knownTowns: readonly string[];
  /** performance.now() when the request started, for tookMs. */
  started: number;
}

/** The events of one prepared question, ending with `done`. Stops the model when the consumer stops early. */
export async function* streamPrepared(prepared: PreparedQuestion): AsyncGenerator<AskStreamEvent> {
  const { answer, use, rewritten, started } = prepared;
  const { diagnostics: _diagnostics, ...extractive } = answer;
  if (!asksModel(use, answer)) {
    const response: AskOutput = { ...extractive, checks: checksWithoutModel(use), ...rewritten, tookMs: Math.round(performance.now() - started) };
    yield { type: 'meta', found: response.found, ...outcomeOf(answer, response.found), mode: response.mode, citations: response.citations, ...rewritten };
    for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
    yield { type: 'done', response };
    return;
  }
  // The model's tokens as they come; if the final checks fail, `replace` swaps in the fallback.
  yield { type: 'meta', found: true, status: 'answered', mode: 'llm', citations: answer.citations.map(({ quote: _quote, ...c }) => c), ...rewritten };
  const abort = new AbortController();
  const generation = generateGroundedAnswer({ llm: use.llm, question: prepared.question, citations: answer.citations, knownTowns: prepared.knownTowns, stream: true, signal: abort.signal });
  try {
    let shown = '';
    let step = await generation.next();
    while (!step.done) {
      shown += step.value;
      yield { type: 'delta', text: step.value };
      step = await generation.next();
    }
    const settled = settleAnswer(answer, step.value);
    const response: AskOutput = { ...settled, ...outcomeOf(answer, settled.found), ...rewritten, tookMs: Math.round(performance.now() - started) };
    if (shown === '') for (const text of answerPieces(response.answer)) yield { type: 'delta', text };
    else if (response.answer !== shown) yield { type: 'replace', text: response.answer };
    yield { type: 'done', response };
  } finally {
    // A client that went away stops the model too.
    abort.abort();
    await generation.return(undefined as never);
  }
}
