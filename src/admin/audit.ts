/**
 * The audit log of report management: one JSON line per admin action (who, what, when, from
 * where, with what outcome), appended to a file and mirrored to the structured log. Secrets never
 * enter it: callers pass the actor's name, never a token.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

export interface AuditEvent {
  /** ISO 8601. */
  time: string;
  /** Who: the name the client gave (X-Admin-User) or `admin`; the OS user for the CLI. */
  actor: string;
  /** Through what: the HTTP API or the CLI. */
  via: 'http' | 'cli';
  /** What: documents.list, documents.add, documents.replace, documents.remove, reindex, auth. */
  action: string;
  /** On what: a file name or document id. */
  target?: string;
  outcome: 'ok' | 'denied' | 'failed';
  /** Client address (HTTP). */
  ip?: string;
  requestId?: string;
  /** Anything else worth keeping: sizes, hashes, error codes. */
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  record(event: Omit<AuditEvent, 'time'>): void;
}

export interface AuditLogOptions {
  /** JSON-lines file to append to (created with its folder). Undefined: structured log only. */
  file?: string | undefined;
  /** The structured log the events are mirrored to (at info level, under `audit`). */
  logger?: Logger | undefined;
  /**
   * Refused (`denied`) events written per minute; beyond that they are only counted, and the
   * count goes out as one line when the minute is over. Anyone can send unauthenticated admin
   * requests, so without a bound each one would grow the file. Default 30.
   */
  maxDeniedPerMinute?: number | undefined;
  /** Clock, for tests. Default Date.now. */
  now?: (() => number) | undefined;
}

const MINUTE_MS = 60_000;

/** A name fit for a log line: printable, short; anything else is replaced. */
export function cleanActor(name: string | undefined, fallback: string): string {
  const trimmed = (name ?? '').trim();
  return /^[\p{L}\p{N} ._@-]{1,64}$/u.test(trimmed) ? trimmed : fallback;
}

export function createAuditLog(options: AuditLogOptions = {}): AuditLog {
  if (options.file) fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const maxDenied = Math.max(0, options.maxDeniedPerMinute ?? 30);
  const now = options.now ?? Date.now;
  let windowStart = now();
  let deniedInWindow = 0;
  let suppressed = 0;
  const write = (event: Omit<AuditEvent, 'time'>) => {
    const entry: AuditEvent = { time: new Date(now()).toISOString(), ...event };
    if (options.file) {
      // One write per line with O_APPEND: concurrent writers never interleave within a line.
      fs.appendFileSync(options.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    }
    options.logger?.info({ audit: entry }, `admin ${entry.action} ${entry.outcome}`);
  };
  return {
    record(event) {
      if (now() - windowStart >= MINUTE_MS) {
        if (suppressed > 0) {
          write({ actor: 'audit', via: event.via, action: 'auth', outcome: 'denied', detail: { suppressed, windowStart: new Date(windowStart).toISOString(), reason: `more than ${maxDenied} refused requests in a minute; the rest were counted, not logged` } });
        }
        windowStart = now();
        deniedInWindow = 0;
        suppressed = 0;
      }
      if (event.outcome === 'denied' && ++deniedInWindow > maxDenied) {
        suppressed++;
        return;
      }
      write(event);
    },
  };
}
