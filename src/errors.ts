/**
 * The one error type of the project: a stable code and a cause. Core code raises a code only; the
 * server's one error handler (server/errors.ts) maps codes to HTTP statuses. `status` is an
 * override for the server's own raises (test/architecture.test.ts keeps it out of core code).
 */

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
  /** The index store's database could not be reached, or failed a read or write. */
  | 'E_STORE'
  | 'E_INTERNAL';

/**
 * Which kind of mistake an error is, where one code covers several that a caller must tell
 * apart (an upload of the wrong type, too large, or unreadable are all E_UPLOAD_INVALID). Says
 * what is wrong, not how HTTP puts it: the server's error handler maps kinds to statuses.
 * - `unsupported-type`: the content's type is not one that is taken;
 * - `too-large`: the content is over a size limit;
 * - `unreadable`: the content has the right type but its text cannot be extracted;
 * - `unknown-reference`: the request names a record (a passage id) that does not exist.
 */
export type ErrorKind = 'unsupported-type' | 'too-large' | 'unreadable' | 'unknown-reference';

export interface AppErrorOptions {
  kind?: ErrorKind;
  /** HTTP status override, for the server's own raises only (core code names a code and a kind). */
  status?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind | undefined;
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.kind = options.kind;
    this.status = options.status;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}
