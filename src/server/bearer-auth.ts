/**
 * The server's one bearer-token check: `Authorization: Bearer <token>` compared in constant time
 * against the configured tokens. Used by the admin API, the staff feedback lists, /metrics and the
 * OpenAI-compatible /v1 routes, so that a header is read and a secret compared by one rule.
 */
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors.js';

/** Constant-time comparison of a presented secret with the expected one (hashes first: equal lengths). */
export function secretMatches(presented: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(presented).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

export type BearerDenial = 'no bearer token' | 'wrong token';

export interface BearerAuthOptions {
  /** Accepted tokens; none configured means the routes are open. */
  tokens: readonly string[];
  /** realm of the WWW-Authenticate challenge sent with a 401. */
  realm: string;
  /** The 401's message (E_UNAUTHORIZED). */
  message: string;
  /** Told of each refusal before the 401 is raised (the admin routes audit it). */
  onDenied?: (req: Request, res: Response, reason: BearerDenial) => void;
}

/** Middleware: passes a request with an accepted token, answers any other with 401 and a challenge. */
export function requireBearer(options: BearerAuthOptions): RequestHandler {
  const { tokens, realm, message, onDenied } = options;
  return (req, res, next) => {
    if (tokens.length === 0) {
      next();
      return;
    }
    const token = bearerToken(req.get('authorization'));
    // Every configured token is compared, so the time taken does not tell which one came close.
    if (token !== undefined && tokens.map((t) => secretMatches(token, t)).some(Boolean)) {
      next();
      return;
    }
    onDenied?.(req, res, token === undefined ? 'no bearer token' : 'wrong token');
    res.setHeader('WWW-Authenticate', `Bearer realm="${realm}"`);
    next(new AppError('E_UNAUTHORIZED', message));
  };
}

/** The 401 message of the admin API and the staff feedback lists (both take ADMIN_TOKEN). */
export const ADMIN_UNAUTHORIZED = 'admin: a valid bearer token is required (Authorization: Bearer <ADMIN_TOKEN>)';
