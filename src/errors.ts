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
  | 'E_RATE_LIMITED'
  /** Admin API: missing or wrong bearer token. */
  | 'E_UNAUTHORIZED'
  /** Admin API: the upload is not an acceptable report (type, magic bytes, text, size). */
  | 'E_UPLOAD_INVALID'
  /** Admin API: the name or content is already taken (replace with PUT, or it duplicates another report). */
  | 'E_CONFLICT'
  /** Another ingest holds the index's write lock. */
  | 'E_BUSY'
  /** A reindex ran and failed; the previous index keeps serving. */
  | 'E_REINDEX_FAILED'
  /** The server is shutting down and takes no new requests. */
  | 'E_SHUTTING_DOWN'
  /** The server is still building its first index (fetching the model, embedding); 503 with progress. */
  | 'E_INDEX_BUILDING'
  /** The ingest child process died (out of memory, killed, crashed) before it finished. */
  | 'E_INGEST_CRASHED'
  /** A run was stopped (AbortSignal) before it finished. */
  | 'E_ABORTED'
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
