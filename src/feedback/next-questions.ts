/**
 * Next questions after an answer: two or three questions about the same town, drawn from the
 * topics of its reports' sections (the candidates the first-open suggestions are made of), the
 * ones closest to what was just asked first, and each asked of the service itself before it is
 * offered, so a chip never leads to "not found". No LLM. Built per loaded service (one index
 * generation): answerability and vectors are remembered for as long as that index serves.
 */
import { storedSuggestionAnswers, storedSuggestionCandidates, type Suggestion } from '../qa/suggestions.js';
import type { QaService } from '../qa/service.js';
import { statusOf, type AnswerRecord } from './answers.js';
import type { Embed } from './insights.js';

export interface NextQuestions {
  /** Up to `count` (default 3) answerable questions to offer after this answer. */
  forAnswer(record: Pick<AnswerRecord, 'question' | 'answer' | 'citations' | 'town' | 'citedTown'>, count?: number): Promise<Suggestion[]>;
  /** Checks every town's candidates ahead of the first request (used at start). */
  warm(): Promise<void>;
}

export interface NextQuestionsOptions {
  /** Candidates asked per request before giving up on more. Default 8. */
  maxTries?: number;
  /** Cosine above which a candidate is the same question again. Default 0.95. */
  sameAbove?: number;
}

/**
 * An answer that only introduces a list ("主要做了以下五个方面的工作:[1]") answers nothing (the
 * same rule as the first-open suggestions).
 */
const INTRO_ONLY = /[:：]\[\d+\]/;

const normalize = (q: string): string => q.replace(/\s+/g, '').replace(/[?？!！。.,，]+$/, '');

export function createNextQuestions(service: QaService, embed: Embed, options: NextQuestionsOptions = {}): NextQuestions {
  const maxTries = options.maxTries ?? 8;
  const sameAbove = options.sameAbove ?? 0.95;
  const vectors = new Map<string, Promise<Float32Array>>();
  const vectorOf = (text: string): Promise<Float32Array> => {
    let v = vectors.get(text);
    if (!v) {
      vectors.set(text, (v = embed(text)));
      v.catch(() => vectors.delete(text));
    }
    return v;
  };
  /** The first passage a candidate is answered from, or undefined when it is not answered. */
  const checked = new Map<string, Promise<string | undefined>>();
  // Ingest checked every candidate already (src/qa/suggestions.ts): those are only read.
  const stored = storedSuggestionAnswers(service);
  const answeredFrom = (question: string, town: string): Promise<string | undefined> => {
    const key = `${town}\u0000${question}`;
    let pending = checked.get(key);
    if (!pending) {
      // The very request the widget sends for a chip: same question, same town filter, no history.
      pending = stored.then((known) => (known.has(key) ? known.get(key) ?? undefined : service.ask({ question, filters: { town }, useLlm: false }).then((a) => {
        const first = a.citations[0];
        return statusOf(a).status === 'answered' && first && !INTRO_ONLY.test(a.answer) ? first.chunkId : undefined;
      })));
      pending.catch(() => checked.delete(key));
      checked.set(key, pending);
    }
    return pending;
  };

  return {
    async forAnswer(record, count = 3) {
      const town = record.town ?? record.citedTown;
      if (!town) return [];
      const asked = normalize(record.question);
      // The candidates ingest made of the reports, stored per town: no report text is read here.
      const pool = (await storedSuggestionCandidates(service, [town])).filter((c) => normalize(c.question) !== asked);
      if (pool.length === 0) return [];
      // Related: what was asked and what the answer said, against each candidate.
      const target = await vectorOf(`${record.question} ${record.answer.replace(/\[\d+\]/g, '')}`.slice(0, 400));
      const questionVector = await vectorOf(record.question);
      const scored = await Promise.all(
        pool.map(async (c) => {
          const v = await vectorOf(c.question);
          let score = 0;
          let same = 0;
          for (let i = 0; i < v.length; i++) {
            score += v[i]! * target[i]!;
            same += v[i]! * questionVector[i]!;
          }
          return { c, score, same };
        }),
      );
      const ranked = scored.filter((s) => s.same < sameAbove).sort((a, b) => b.score - a.score);
      const offered: Suggestion[] = [];
      const passages = new Set(record.citations.slice(0, 1));
      for (const { c } of ranked.slice(0, maxTries)) {
        if (offered.length >= count) break;
        const from = await answeredFrom(c.question, town);
        // A question answered from the passage just shown would repeat the answer.
        if (!from || passages.has(from)) continue;
        passages.add(from);
        offered.push({ question: c.question, town });
      }
      return offered;
    },
    async warm() {
      for (const c of await storedSuggestionCandidates(service)) {
        await vectorOf(c.question);
        await answeredFrom(c.question, c.town);
      }
    },
  };
}
