/**
 * The answers residents may rate: every answer given gets a fresh `answerId` (a cached answer too)
 * and a short-lived record of what was asked and answered, kept in memory only. Nothing of it is
 * written anywhere unless the resident sends feedback on it (or LOG_QUESTIONS is on), so question
 * text stays as private as the question log's opt-in promises.
 */
import { randomUUID } from 'node:crypto';
import { ANSWER_STATUSES as STATUSES, type AnswerStatus } from '../domain/answer.js';
import { namesTown } from '../domain/towns.js';

/** What an answer's feedback is filed with. */
export interface AnswerRecord {
  answerId: string;
  question: string;
  answer: string;
  status: AnswerStatus;
  /** Why it was not answered (issue 10's reasons), when the service says. */
  reason?: string;
  /** Ids of the cited passages, best first. */
  citations: string[];
  /** The town the question was about: the filter, else a cited town the question names. */
  town?: string;
  /** The town of the first citation (where next questions come from when no town was asked). */
  citedTown?: string;
  /** ISO time the answer was given. */
  at: string;
}

/** The parts of an answer (an /api/ask response) a record is made of. */
export interface AnswerLike {
  answer: string;
  found: boolean;
  status?: unknown;
  reason?: unknown;
  citations: ReadonlyArray<{ chunkId: string; town?: string }>;
}

/**
 * The three outcomes of an answer: the service's own `status` when it gives one, else derived
 * from `found` (services from before the three outcomes existed).
 */
export function statusOf(output: AnswerLike): { status: AnswerStatus; reason?: string } {
  const status = STATUSES.find((s) => s === output.status) ?? (output.found ? 'answered' : 'not_found');
  const reason = status !== 'answered' && typeof output.reason === 'string' && output.reason ? output.reason : undefined;
  return reason === undefined ? { status } : { status, reason };
}

/**
 * A town of the citations that the question itself names (梅李镇, or 梅李 as residents write it).
 * Without one, a question asked with no town filter is about no town in particular: it is not
 * filed under whichever town's passage happened to come first.
 */
function namedTown(question: string, output: AnswerLike): string | undefined {
  const towns = [...new Set(output.citations.map((c) => c.town).filter((t): t is string => Boolean(t)))];
  return towns.find((t) => namesTown(question, t));
}

export interface AnswerRegistry {
  /** Files the answer under a new id and returns the id. */
  remember(question: string, output: AnswerLike, town: string | undefined, now?: Date): AnswerRecord;
  get(answerId: string): AnswerRecord | undefined;
}

export interface AnswerRegistryOptions {
  /** Answers kept (oldest dropped first). Default 20000: a few MB. */
  capacity?: number;
  /** How long an answer can still be rated, in ms. Default one day. */
  ttlMs?: number;
}

/** An id is a UUID: anything else is refused before any lookup. */
export const ANSWER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createAnswerRegistry(options: AnswerRegistryOptions = {}): AnswerRegistry {
  const capacity = options.capacity ?? 20_000;
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  // A Map iterates in insertion order: the first key is the oldest.
  const records = new Map<string, AnswerRecord>();
  return {
    remember(question, output, town, now = new Date()) {
      const { status, reason } = statusOf(output);
      const record: AnswerRecord = {
        answerId: randomUUID(),
        question,
        answer: output.answer,
        status,
        ...(reason ? { reason } : {}),
        citations: output.citations.map((c) => c.chunkId),
        ...((town ?? namedTown(question, output)) ? { town: town ?? namedTown(question, output) } : {}),
        ...(output.citations[0]?.town ? { citedTown: output.citations[0].town } : {}),
        at: now.toISOString(),
      };
      records.set(record.answerId, record);
      while (records.size > capacity) records.delete(records.keys().next().value!);
      return record;
    },
    get(answerId) {
      const record = ANSWER_ID.test(answerId) ? records.get(answerId) : undefined;
      if (!record) return undefined;
      if (Date.now() - Date.parse(record.at) > ttlMs) {
        records.delete(answerId);
        return undefined;
      }
      return record;
    },
  };
}
