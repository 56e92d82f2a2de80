/**
 * The one place where errors become HTTP responses: `{"error": {"code", "message"}}` with a
 * status from the error's code. Errors are logged in full with the request id; what leaves the
 * server is the code and a message with no stack trace and no file-system path.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AppError, isAppError, type ErrorCode, type ErrorKind } from '../errors.js';

/** The body of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/**
 * The HTTP status of each code: core code raises an AppError with a code only, and this map alone
 * says what it means over HTTP. Unlisted codes are server faults: 500. (A server-side raise may
 * still name its own status, for a code used with two meanings; see statusOf.)
 */
const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  E_BAD_REQUEST: 400,
  E_BAD_JSON: 400,
  E_QUESTION_MISSING: 400,
  E_QUESTION_TOO_LONG: 400,
  E_UNKNOWN_FILTER: 400,
  E_NOT_FOUND: 404,
  E_DOCUMENT_NOT_FOUND: 404,
  E_INDEX_MISSING: 503,
  E_INDEX_MISMATCH: 503,
  E_INDEX_CORRUPT: 503,
  E_MODEL_MISSING: 503,
  E_MODEL_FETCH: 503,
  E_UNAUTHORIZED: 401,
  E_UPLOAD_INVALID: 400,
  E_CONFLICT: 409,
  E_BUSY: 409,
  E_RATE_LIMITED: 429,
  E_REINDEX_FAILED: 500,
  E_SHUTTING_DOWN: 503,
  E_INDEX_BUILDING: 503,
  E_STORE: 503,
};

/** Status for an error's kind (see ErrorKind), which wins over its code's. */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  'unsupported-type': 415,
  'too-large': 413,
  unreadable: 422,
  // The endpoint exists; the request names a record that does not: the request is at fault.
  'unknown-reference': 400,
};

/**
 * Codes whose message is worth showing even with a 5xx status: they tell an operator what to
 * run (`npm run ingest`). Other 5xx messages may describe internals and are replaced.
 */
const OPERATOR_CODES = new Set<ErrorCode>(['E_INDEX_MISSING', 'E_INDEX_MISMATCH', 'E_INDEX_CORRUPT', 'E_MODEL_MISSING', 'E_MODEL_FETCH', 'E_CONFIG', 'E_REINDEX_FAILED', 'E_SHUTTING_DOWN', 'E_INDEX_BUILDING']);

const GENERIC_INTERNAL = 'internal error; the server log has the details (quote the X-Request-Id header)';

/**
 * Replaces absolute file-system paths (/work/x/y.onnx, C:\x\y) in a message by their last
 * segment, so an error that names a file does not reveal the server's layout. URLs survive:
 * a slash after a word character, a colon or another slash does not start a path.
 */
export function redactPaths(message: string): string {
  return message
    .replace(/(?<![\w:/.\\-])\/(?:[^\s/\\'"`]+\/)+([^\s/\\'"`]*)/g, '…/$1')
    .replace(/\b[A-Za-z]:\\(?:[^\s\\'"`]+\\)+([^\s\\'"`]*)/g, '…\\$1');
}

/** HTTP status of an AppError: a server raise's own, else its kind's, else its code's, else 500. */
export function statusOf(error: AppError): number {
  return error.status ?? (error.kind ? STATUS_BY_KIND[error.kind] : undefined) ?? STATUS_BY_CODE[error.code] ?? 500;
}

/** The request id set by the request-id middleware, for logs and error messages. */
export function requestIdOf(res: Response): string | undefined {
  const id: unknown = res.locals['requestId'];
  return typeof id === 'string' ? id : undefined;
}

/** Sends an error body with its status. */
export function sendError(res: Response, status: number, code: ErrorCode, message: string): void {
  const body: ErrorBody = { error: { code, message } };
  res.status(status).json(body);
}

/** What body-parser (express.json) throws carries a `type`; http-errors carry `status`. */
interface HttpLikeError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

/**
 * Maps an error to status, code and a safe message. Pure: used by the handler and by tests.
 * - malformed JSON -> 400 E_BAD_JSON; body over the limit -> 413 E_BAD_REQUEST;
 *   unsupported body charset/encoding -> 415 E_BAD_REQUEST
 * - AppError -> its status (E_INDEX_* and E_MODEL_* 503, client codes 4xx, others 500)
 * - other 4xx errors from Express's own layers (say a malformed %-escape in the path) -> that
 *   status with E_BAD_REQUEST and a generic message
 * - anything else -> 500 E_INTERNAL with a generic message
 */
export function describeError(err: unknown): { status: number; code: ErrorCode; message: string } {
  if (isAppError(err)) {
    const status = statusOf(err);
    const showMessage = status < 500 || OPERATOR_CODES.has(err.code);
    return { status, code: err.code, message: showMessage ? redactPaths(err.message) : GENERIC_INTERNAL };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpLikeError;
  switch (e.type) {
    case 'entity.parse.failed':
      return { status: 400, code: 'E_BAD_JSON', message: 'body: not valid JSON (a JSON object such as {"question": "..."} is expected)' };
    case 'entity.too.large':
      return { status: 413, code: 'E_BAD_REQUEST', message: 'body: too large' };
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return { status: 415, code: 'E_BAD_REQUEST', message: 'body: unsupported charset or content encoding; send UTF-8 JSON' };
  }
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return { status, code: 'E_BAD_REQUEST', message: 'request: malformed' };
  return { status: 500, code: 'E_INTERNAL', message: GENERIC_INTERNAL };
}

/** Answers an unmatched route with 404 E_NOT_FOUND (the path itself is not echoed). */
export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new AppError('E_NOT_FOUND', 'no such endpoint; see GET /api/health, POST /api/ask, GET /api/search, GET /api/documents'));
}

/**
 * Answers a known route asked with another method: 405 with an Allow header naming the methods
 * it takes (`allow`, e.g. 'GET, HEAD'). Put last on the route, after its method handlers.
 */
export function methodNotAllowed(allow: string): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Allow', allow);
    next(new AppError('E_BAD_REQUEST', `method ${req.method} not allowed here; use ${allow.split(',')[0]}`, { status: 405 }));
  };
}

/** The app's one error handler. Must be registered last. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    const { status, code, message } = describeError(err);
    const requestId = requestIdOf(res);
    const context = { requestId, method: req.method, path: req.path, status, code };
    // Unexpected faults are logged in full (the stack stays in the log). The caller's mistakes
    // (4xx) and "no index loaded" (503 on every request until fixed) are expected: a line each.
    if (status < 500) logger.info({ ...context, reason: err instanceof Error ? err.message : String(err) }, 'request rejected');
    else if (isAppError(err) && status === 503) logger.warn({ ...context, reason: err.message }, 'service unavailable');
    else logger.error({ ...context, err }, 'request failed');
    if (res.headersSent) {
      // Too late for a clean error body: let Express close the connection.
      next(err);
      return;
    }
    sendError(res, status, code, message);
  };
}

