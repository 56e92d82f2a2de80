/**
 * Answer cache: repeated questions (the widget's most common case) are answered from memory.
 * Keyed on the normalised request and the index version, so an answer from a previous index
 * is never served: a new index is a new key space (and, being a new service, a new cache).
 * A wrapper (qa/wrap.ts): the cached service is a QaService whose cacheStats() reports the counts.
 */
import type { AnswerDiagnostics } from '../answer/extractive.js';
import { eventsOfResponse } from './stream.js';
import type { AskInput, AskOutput, AskStreamEvent, CacheStats, QaService } from './types.js';
import { wrapService } from './wrap.js';

const CACHED: AnswerDiagnostics = { coverage: 0, missing: 0, topDense: 0, sentenceDense: 0, confidence: 0, reason: 'cached' };

/** A service wrapped in the cache: its counts are always there. */
export interface CachedQaService extends QaService {
  cacheStats(): CacheStats;
}

/** Same question modulo width, spacing and final punctuation: 梅李镇有多少个网格? = 梅李镇有多少个网格 */
export function normalizeQuestion(question: string): string {
  return question.normalize('NFKC').replace(/\s+/g, ' ').trim().replace(/[??!!。.]+$/, '');
}

export function cacheKey(indexVersion: string, input: AskInput): string {
  return JSON.stringify([indexVersion, normalizeQuestion(input.question), input.topK ?? null, input.filters ?? null, input.history ?? null]);
}

/** Wraps a service with an LRU cache of `capacity` answers (0 disables caching). */
export function withAnswerCache(service: QaService, capacity: number): CachedQaService {
  // Only the public response is kept: whether it came from ask() or from a finished stream.
  const entries = new Map<string, AskOutput>();
  const stats = { hits: 0, misses: 0 };

  const lookup = (key: string): AskOutput | undefined => {
    const hit = entries.get(key);
    if (hit) {
      // Re-insert to mark as most recently used.
      entries.delete(key);
      entries.set(key, hit);
      stats.hits++;
    } else stats.misses++;
    return hit;
  };
  const store = (key: string, value: AskOutput): void => {
    if (capacity <= 0) return;
    // An LLM that timed out or failed may answer next time: its fallback is not kept.
    if (value.checks?.llm === 'fallback' && value.checks.reason !== 'checks-failed') return;
    entries.set(key, value);
    if (entries.size > capacity) entries.delete(entries.keys().next().value!);
  };
  const cacheStats = (): CacheStats => ({ ...stats, size: entries.size, capacity });

  const cached = wrapService(service, {
    async ask(input) {
      const started = performance.now();
      const key = cacheKey(service.indexVersion, input);
      const hit = lookup(key);
      if (hit) return { ...hit, diagnostics: CACHED, tookMs: Math.round(performance.now() - started) };
      const answer = await service.ask(input);
      const { diagnostics: _diagnostics, ...response } = answer;
      store(key, response);
      return answer;
    },

    async *askStream(input): AsyncGenerator<AskStreamEvent> {
      const key = cacheKey(service.indexVersion, input);
      const hit = lookup(key);
      if (hit) {
        yield* eventsOfResponse({ ...hit, tookMs: 0 });
        return;
      }
      for await (const event of service.askStream(input)) {
        if (event.type === 'done') store(key, event.response);
        yield event;
      }
    },

    cacheStats,
  });
  const withStats: CachedQaService = Object.assign(cached, { cacheStats });
  return withStats;
}
