/**
 * Per-client rate limit on /api (config RATE_LIMIT_PER_MINUTE): a client over the limit gets
 * 429 E_RATE_LIMITED with Retry-After, which the widget turns into a friendly message.
 *
 * Counts live in this process's memory by default. Given a shared {@link HitCounter} (with
 * INDEX_STORE=postgres, the database's rate_limits table: src/store/postgres/rate-limits.ts),
 * every replica on that database counts a client's requests together, so N replicas behind a
 * proxy still allow RATE_LIMIT_PER_MINUTE a minute in all, not N times that.
 */
import type { RequestHandler } from 'express';
import { MemoryStore, rateLimit, type Logger as LimiterLogger, type Options, type Store } from 'express-rate-limit';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { HitCounter } from '../store/postgres/rate-limits.js';

export interface RateLimitOptions {
  /** Requests per client IP (IPv6: per /56) per minute; 0 turns the limit off. */
  perMinute: number;
  /** Counters shared with the other replicas. Default: this process's memory. */
  counter?: HitCounter | undefined;
  /** Tells this limiter's keys from another's in a shared counter (`api:`, `feedback:`). Default `api:`. */
  prefix?: string | undefined;
  /** Where a failing shared counter is reported (warn level). Default: silent. */
  logger?: Logger | undefined;
}

const WINDOW_MS = 60_000;

/** While the shared counter keeps failing, one warning per this many ms (not one per request). */
const STORE_WARNING_EVERY_MS = 30_000;

/** express-rate-limit's Store over a shared counter; windowMs comes from the limiter's options. */
class SharedCounterStore implements Store {
  /** Keys are counted in the database: one count for every process and limiter instance. */
  readonly localKeys = false;
  private windowMs = WINDOW_MS;

  constructor(
    private readonly counter: HitCounter,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  increment(key: string) {
    return this.counter.increment(this.prefix + key, this.windowMs);
  }

  decrement(key: string) {
    return this.counter.decrement(this.prefix + key);
  }

  resetKey(key: string) {
    return this.counter.resetKey(this.prefix + key);
  }

  get(key: string) {
    return this.counter.get(this.prefix + key);
  }

  resetAll() {
    return this.counter.resetAll(this.prefix);
  }
}

/**
 * express-rate-limit's logger: its configuration mistakes as errors, a failing store as a
 * warning at most every {@link STORE_WARNING_EVERY_MS} with how many requests passed unlimited.
 */
function limiterLogger(logger: Logger): LimiterLogger {
  let lastWarning = -Infinity;
  let unlimited = 0;
  return {
    warn: (err, message) => logger.warn({ err }, message ?? 'rate limit'),
    error(err, message) {
      if (!message?.includes('error from store')) {
        logger.error({ err }, message ?? 'rate limit');
        return;
      }
      unlimited++;
      if (Date.now() - lastWarning < STORE_WARNING_EVERY_MS) return;
      lastWarning = Date.now();
      logger.warn({ err, unlimited }, 'rate limit: the shared counter failed; requests pass without a limit until it answers again');
      unlimited = 0;
    },
  };
}

/**
 * The limiter, or a pass-through when perMinute is 0. Health probes and CORS preflights are not
 * counted (preflights are answered before this runs anyway).
 *
 * A shared counter that fails (the database down or unreachable) lets the request through, with a
 * warning in the log: the limit protects the service from one client's flood, it is not a reason
 * to refuse everyone while the database is away (answers already cached in memory keep coming).
 */
export function apiRateLimit(options: RateLimitOptions): RequestHandler {
  if (options.perMinute <= 0) return (_req, _res, next) => next();
  const store = options.counter ? new SharedCounterStore(options.counter, options.prefix ?? 'api:') : new MemoryStore();
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: options.perMinute,
    store,
    passOnStoreError: true,
    // Without a logger, express-rate-limit's own (the console).
    ...(options.logger ? { logger: limiterLogger(options.logger) } : {}),
    // RateLimit and RateLimit-Policy headers; Retry-After on the 429.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Without TRUST_PROXY the header is ignored on purpose: no need to warn about it per request.
    validate: { xForwardedForHeader: false },
    skip: (req) => req.method === 'OPTIONS' || /^\/health(?:\/|$)/.test(req.path),
    handler: (_req, res, next) => {
      const retryAfter = res.getHeader('Retry-After');
      const seconds = retryAfter === undefined ? '' : `; retry after ${String(retryAfter)} s`;
      next(new AppError('E_RATE_LIMITED', `rate limit: at most ${options.perMinute} requests per minute per client${seconds}`));
    },
  });
}
