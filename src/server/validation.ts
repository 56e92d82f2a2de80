/**
 * Request validation at the HTTP boundary: zod schemas for the body of POST /api/ask and the
 * query of GET /api/search, and the mapping of their issues to the project's error codes.
 * Everything the service receives from a client has passed through here.
 */
import { z } from 'zod';
import { AppError, type ErrorCode } from '../errors.js';
import type { HistoryTurn } from '../retrieve/follow-up.js';
import { hasControlChars } from '../domain/text.js';
import type { SearchFilters } from '../domain/types.js';

/** What POST /api/ask accepts, once validated. */
export interface AskRequest {
  /** The question, trimmed. */
  question: string;
  topK?: number;
  filters?: SearchFilters;
  /** Earlier turns, oldest first, when the question is a follow-up. */
  history?: HistoryTurn[];
}

/** Earlier turns a request may carry: a follow-up needs the last one or two. */
export const HISTORY_MAX_TURNS = 10;
/** Longest answer a history turn may repeat, in characters (an answer with its sources fits). */
export const HISTORY_ANSWER_MAX_CHARS = 4000;

/** What GET /api/search accepts, once validated. */
export interface SearchRequest {
  /** The query, trimmed. */
  q: string;
  k: number;
  filters: SearchFilters;
}

export interface ValidationOptions {
  /** Longest accepted question or query, in characters (Unicode code points, after trimming). */
  maxQuestionChars: number;
}

/** Passages per answer a client may ask for. */
export const TOP_K_MAX = 20;
/** Results per search a client may ask for, and how many it gets when it names none. */
export const SEARCH_K_MAX = 50;
export const SEARCH_K_DEFAULT = 10;
/** Years a filter may name: anything outside cannot be a township report's year. */
export const YEAR_MIN = 1949;
export const YEAR_MAX = 2100;
/** Roles a client may filter on; `other` sections are searchable but not a filter value. */
export const FILTER_ROLES = ['review', 'plan'] as const;
const FILTER_KEYS = ['town', 'year', 'role'] as const;

type Ctx = z.RefinementCtx;

function fail(ctx: Ctx, appCode: ErrorCode, message: string): never {
  ctx.addIssue({ code: 'custom', message, params: { appCode } });
  return z.NEVER;
}

/** A free-text field (question, q): required, a single string, trimmed, bounded, clean. */
function questionText(field: string, max: number) {
  return z.unknown().transform((value, ctx): string => {
    if (value === undefined || value === null) return fail(ctx, 'E_QUESTION_MISSING', `${field}: required`);
    if (Array.isArray(value)) return fail(ctx, 'E_BAD_REQUEST', `${field}: given more than once`);
    if (typeof value !== 'string') return fail(ctx, 'E_BAD_REQUEST', `${field}: must be a string, got ${typeof value}`);
    const text = value.trim();
    if (text === '') return fail(ctx, 'E_QUESTION_MISSING', `${field}: must not be empty`);
    const length = [...text].length;
    if (length > max) return fail(ctx, 'E_QUESTION_TOO_LONG', `${field}: at most ${max} characters allowed, got ${length}`);
    // Rejected, not silently stripped: a client that sends control characters has a bug worth seeing.
    if (hasControlChars(text)) return fail(ctx, 'E_BAD_REQUEST', `${field}: contains control characters`);
    return text;
  });
}

/** A town name: non-empty, clean; whether the town exists is the service's call. */
function townName(field: string) {
  return z.string({ error: `${field}: must be a string` }).transform((value, ctx): string => {
    const town = value.trim();
    if (town === '') return fail(ctx, 'E_BAD_REQUEST', `${field}: must not be empty`);
    if (hasControlChars(town)) return fail(ctx, 'E_BAD_REQUEST', `${field}: contains control characters`);
    // No town name is this long; saying so beats echoing a kilobyte back in the service's message.
    if ([...town].length > 50) return fail(ctx, 'E_UNKNOWN_FILTER', `${field}: not a known town`);
    return town;
  });
}

const roleSchema = (field: string) =>
  z.enum(FILTER_ROLES, { error: `${field}: must be one of ${FILTER_ROLES.join(', ')}` });

const unknownKeysMessage = (where: string, known: readonly string[]) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys'
    ? `${where}: unknown ${issue.keys?.length === 1 ? 'key' : 'keys'} ${issue.keys?.map((k) => `"${k}"`).join(', ')}; known: ${known.join(', ')}`
    : undefined;

/** The schema of POST /api/ask's body. Unknown keys are rejected: a typo (`topk`) must not pass silently. */
export function createAskSchema(options: ValidationOptions) {
  const filters = z.strictObject(
    {
      town: townName('filters.town').optional(),
      year: z
        .number({ error: 'filters.year: must be a number' })
        .int({ error: 'filters.year: must be an integer' })
        .min(YEAR_MIN, { error: `filters.year: must be between ${YEAR_MIN} and ${YEAR_MAX}` })
        .max(YEAR_MAX, { error: `filters.year: must be between ${YEAR_MIN} and ${YEAR_MAX}` })
        .optional(),
      role: roleSchema('filters.role').optional(),
    },
    { error: (issue) => unknownKeysMessage('filters', FILTER_KEYS)(issue) ?? 'filters: must be an object' },
  );
  return z.strictObject(
    {
      question: questionText('question', options.maxQuestionChars),
      topK: z
        .number({ error: 'topK: must be a number' })
        .int({ error: 'topK: must be an integer' })
        .min(1, { error: `topK: must be between 1 and ${TOP_K_MAX}` })
        .max(TOP_K_MAX, { error: `topK: must be between 1 and ${TOP_K_MAX}` })
        .optional(),
      filters: filters.optional(),
      history: historySchema(options).optional(),
    },
    { error: (issue) => unknownKeysMessage('body', ['question', 'topK', 'filters', 'history'])(issue) ?? 'body: must be a JSON object' },
  );
}

/** One string of a history turn: bounded, clean (line breaks allowed), trimmed. */
function historyText(field: string, max: number, required: boolean) {
  return z.unknown().transform((value, ctx): string => {
    if (typeof value !== 'string') return fail(ctx, 'E_BAD_REQUEST', `${field}: must be a string`);
    const text = value.trim();
    if (required && text === '') return fail(ctx, 'E_BAD_REQUEST', `${field}: must not be empty`);
    if ([...text].length > max) return fail(ctx, 'E_BAD_REQUEST', `${field}: at most ${max} characters allowed`);
    if (hasControlChars(text)) return fail(ctx, 'E_BAD_REQUEST', `${field}: contains control characters`);
    return text;
  });
}

/** `history`: the conversation so far, [{question, answer}], oldest first, at most HISTORY_MAX_TURNS. */
export function historySchema(options: ValidationOptions) {
  const turn = z.strictObject(
    {
      question: historyText('history[].question', options.maxQuestionChars, true),
      answer: historyText('history[].answer', HISTORY_ANSWER_MAX_CHARS, false),
    },
    { error: (issue) => unknownKeysMessage('history[]', ['question', 'answer'])(issue) ?? 'history[]: each turn must be an object {question, answer}' },
  );
  return z
    .array(turn, { error: 'history: must be an array of {question, answer}' })
    .max(HISTORY_MAX_TURNS, { error: `history: at most ${HISTORY_MAX_TURNS} turns allowed` });
}

/**
 * Query parameters as Node's querystring delivers them, made ready for the schema: a repeated
 * parameter (an array) is rejected, and an empty filter parameter (?town=, what a form sends
 * for "any") is dropped as if absent.
 */
function normalizeParams(input: unknown, ctx: Ctx): unknown {
  if (typeof input !== 'object' || input === null) return input;
  // No prototype: `params.__proto__ = 'x'` on a plain object would set its prototype (a no-op for a
  // string) and drop the key, so ?__proto__=x passed where ?constructor=x is refused.
  const params = Object.create(null) as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', path: [key], message: `${key}: given more than once`, params: { appCode: 'E_BAD_REQUEST' } });
      continue;
    }
    if (key !== 'q' && typeof value === 'string' && value.trim() === '') continue;
    params[key] = value;
  }
  return params;
}

function integerParam(field: string, min: number, max: number) {
  const range = `${field}: must be an integer between ${min} and ${max}`;
  return z
    .string({ error: range })
    .regex(/^\s*\d{1,6}\s*$/, { error: range })
    .transform((value) => Number.parseInt(value, 10))
    .pipe(z.number().min(min, { error: range }).max(max, { error: range }));
}

/** The schema of GET /api/search's query. Unknown parameters are rejected like unknown filters. */
export function createSearchSchema(options: ValidationOptions) {
  const params = z.strictObject(
    {
      q: questionText('q', options.maxQuestionChars),
      k: integerParam('k', 1, SEARCH_K_MAX).optional(),
      town: townName('town').optional(),
      year: integerParam('year', YEAR_MIN, YEAR_MAX).optional(),
      role: roleSchema('role').optional(),
    },
    { error: (issue) => unknownKeysMessage('query', ['q', 'k', 'town', 'year', 'role'])(issue) },
  );
  return z.preprocess(normalizeParams, params).transform(({ q, k, town, year, role }): SearchRequest => ({
    q,
    k: k ?? SEARCH_K_DEFAULT,
    filters: {
      ...(town !== undefined ? { town } : {}),
      ...(year !== undefined ? { year } : {}),
      ...(role !== undefined ? { role } : {}),
    },
  }));
}

/**
 * Picks the error code of a zod issue: ours when we raised it, else from where it sits. Unknown
 * keys inside `filters` (and unknown search parameters, which are the search's filters) and a
 * role outside review|plan are E_UNKNOWN_FILTER; every other shape problem is E_BAD_REQUEST.
 */
function codeOf(issue: z.core.$ZodIssue, where: 'body' | 'query'): ErrorCode {
  const own = issue.code === 'custom' ? (issue.params?.['appCode'] as ErrorCode | undefined) : undefined;
  if (own) return own;
  const path = issue.path.map(String);
  const filterPath = where === 'body' ? path.slice(path[0] === 'filters' ? 1 : path.length) : path;
  const inFilters = where === 'query' || path[0] === 'filters';
  if (issue.code === 'unrecognized_keys' && inFilters && filterPath.length === 0) return 'E_UNKNOWN_FILTER';
  if (issue.code === 'invalid_value' && inFilters && filterPath[0] === 'role') return 'E_UNKNOWN_FILTER';
  return 'E_BAD_REQUEST';
}

/** Turns a failed parse into one AppError (the first issue: fields are checked in contract order). */
function toAppError(error: z.ZodError, where: 'body' | 'query'): AppError {
  const issue = error.issues[0];
  if (!issue) return new AppError('E_BAD_REQUEST', 'request: invalid', { status: 400 });
  return new AppError(codeOf(issue, where), issue.message, { status: 400 });
}

export interface RequestParsers {
  /** Validates a parsed JSON body of POST /api/ask; throws a 400 AppError naming the bad field. */
  parseAskBody(body: unknown): AskRequest;
  /** Validates the query of GET /api/search; throws a 400 AppError naming the bad parameter. */
  parseSearchQuery(query: unknown): SearchRequest;
}

/** Builds the schemas once for the app's limits. */
export function createRequestParsers(options: ValidationOptions): RequestParsers {
  const ask = createAskSchema(options);
  const search = createSearchSchema(options);
  return {
    parseAskBody(body) {
      const parsed = ask.safeParse(body);
      if (!parsed.success) throw toAppError(parsed.error, 'body');
      const { question, topK, filters, history } = parsed.data;
      const clean: SearchFilters = {};
      if (filters?.town !== undefined) clean.town = filters.town;
      if (filters?.year !== undefined) clean.year = filters.year;
      if (filters?.role !== undefined) clean.role = filters.role;
      return {
        question,
        ...(topK !== undefined ? { topK } : {}),
        ...(Object.keys(clean).length > 0 ? { filters: clean } : {}),
        ...(history && history.length > 0 ? { history } : {}),
      };
    },
    parseSearchQuery(query) {
      const parsed = search.safeParse(query ?? {});
      if (!parsed.success) throw toAppError(parsed.error, 'query');
      return parsed.data;
    },
  };
}
