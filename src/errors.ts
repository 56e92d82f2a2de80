/** The one error type of the project: a stable code, an optional HTTP status and a cause. */

export type ErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_BAD_JSON'
  | 'E_QUESTION_MISSING'
  | 'E_QUESTION_TOO_LONG'
  | 'E_UNKNOWN_FILTER'
  | 'E_NOT_FOUND'
  | 'E_DOCUMENT_NOT_FOUND'
  | 'E_INDEX_MISSING'
  | 'E_INDEX_MISMATCH'
  | 'E_INDEX_CORRUPT'
  | 'E_MODEL_MISSING'
  | 'E_MODEL_FETCH'
  | 'E_PARSE'
  | 'E_CONFIG'
  | 'E_INTERNAL';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
