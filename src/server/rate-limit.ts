/**
 * Per-client rate limit on /api (config RATE_LIMIT_PER_MINUTE): a client over the limit gets
 * 429 E_RATE_LIMITED with Retry-After, which the widget turns into a friendly message.
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { AppError } from '../errors.js';

export interface RateLimitOptions {
  /** Requests per client IP (IPv6: per /56) per minute; 0 turns the limit off. */
  perMinute: number;
}

const WINDOW_MS = 60_000;

/**
 * The limiter, or a pass-through when perMinute is 0. Health probes and CORS preflights are not
 * counted (preflights are answered before this runs anyway).
 */
export function apiRateLimit(options: RateLimitOptions): RequestHandler {
  if (options.perMinute <= 0) return (_req, _res, next) => next();
  return rateLimit({
    windowMs: WINDOW_MS,
    limit: options.perMinute,
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
