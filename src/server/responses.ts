/**
 * The HTTP contract's shapes (docs/design.md, "HTTP contract"): exactly these fields go out for an
 * answer, a passage and a citation, whatever else the service's records carry (diagnostics and
 * any future internals stay home).
 */
import type { Citation } from '../domain/answer.js';
import type { AskOutput } from '../qa/types.js';
import type { Passage } from '../domain/types.js';

/** The contract's answer: exactly these fields. */
export function toAskResponse(output: AskOutput): AskOutput {
  return {
    answer: output.answer,
    found: output.found,
    status: output.status,
    ...(output.reason ? { reason: output.reason } : {}),
    mode: output.mode,
    citations: output.citations.map(toCitation),
    checks: output.checks,
    ...(output.rewrittenQuestion !== undefined ? { rewrittenQuestion: output.rewrittenQuestion } : {}),
    tookMs: output.tookMs,
  };
}

export function toPassage(p: Passage): Passage {
  return {
    chunkId: p.chunkId,
    docId: p.docId,
    title: p.title,
    town: p.town,
    date: p.date,
    section: p.section,
    role: p.role,
    text: p.text,
    start: p.start,
    end: p.end,
    score: p.score,
  };
}

export function toCitation(c: Citation): Citation {
  // quote: where the sentence the answer quotes sits, so a client can highlight it.
  return { n: c.n, ...toPassage(c), ...(c.quote ? { quote: { start: c.quote.start, end: c.quote.end } } : {}) };
}
