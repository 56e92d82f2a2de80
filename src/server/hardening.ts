/**
 * Guards for what reaches the routes of a public server: bodies and query strings must be valid
 * UTF-8 (a decoder would otherwise turn bad bytes into U+FFFD and the service would answer a
 * question nobody asked), and a server that is shutting down refuses new requests while the
 * ones in flight finish.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors.js';

/** Largest JSON body accepted by POST /api/ask and /v1; a 500-character question needs a few KB at most. */
export const BODY_LIMIT = '16kb';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `verify` option of express.json: rejects a UTF-8 body that is not valid UTF-8 with
 * 400 E_BAD_REQUEST (body-parser keeps the status of the error it is given).
 */
export function requireUtf8Body(_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase().replace('-', '') !== 'utf8') return;
  try {
    UTF8.decode(body);
  } catch {
    // Named here, not by the code map: body-parser gives a verify error without a status 403.
    throw new AppError('E_BAD_REQUEST', 'body: not valid UTF-8; send the JSON as UTF-8', { status: 400 });
  }
}

/**
 * Rejects a query string whose %-escapes are not UTF-8 (?q=%FF) or malformed (?q=%E4%B8) with
 * 400 E_BAD_REQUEST, instead of letting the parser replace them silently.
 */
export function rejectMalformedQuery(): RequestHandler {
  return (req, _res, next) => {
    const at = req.originalUrl.indexOf('?');
    if (at >= 0) {
      try {
        decodeURIComponent(req.originalUrl.slice(at + 1).replace(/\+/g, ' '));
      } catch {
        next(new AppError('E_BAD_REQUEST', 'query: malformed or not UTF-8 percent-encoding'));
        return;
      }
    }
    next();
  };
}

/**
 * Once `isStopping()` is true, every response closes its connection, and requests that arrive
 * on a kept-alive connection get 503 E_SHUTTING_DOWN (health probes excepted: readiness says
 * `stopping`). Requests already in flight are not affected.
 */
export function refuseWhileStopping(isStopping: () => boolean): RequestHandler {
  return (req, res, next) => {
    if (!isStopping()) {
      next();
      return;
    }
    res.setHeader('Connection', 'close');
    if (req.path === '/api/health' || req.path.startsWith('/api/health/')) {
      next();
      return;
    }
    res.setHeader('Retry-After', '5');
    next(new AppError('E_SHUTTING_DOWN', 'the server is shutting down; retry in a few seconds'));
  };
}

/**
 * The media type every JSON route takes: application/json, with no charset or charset=utf-8.
 * Anything else (a form post, text/plain, no content type, utf-16, utf-7) is 415 rather than 400:
 * the body may be fine, its declared type is not. Other charsets are refused, not decoded: a
 * filter upstream that looks for literal characters would not see them in utf-7 or utf-16.
 */
export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const [rawType = '', ...params] = (req.get('content-type') ?? '').split(';');
  const type = rawType.trim().toLowerCase();
  if (type !== 'application/json') {
    next(new AppError('E_BAD_REQUEST', `body: Content-Type must be application/json${type ? `, got ${type.slice(0, 60)}` : ''}`, { kind: 'unsupported-type' }));
    return;
  }
  for (const param of params) {
    const [name = '', value = ''] = param.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      next(new AppError('E_BAD_REQUEST', `body: only UTF-8 JSON is accepted, got charset=${charset.slice(0, 40)}`, { kind: 'unsupported-type' }));
      return;
    }
  }
  next();
}

/** The one JSON body parser of every route that takes JSON (/api and /v1): type, size, UTF-8. */
export function jsonBody(limit: string = BODY_LIMIT): RequestHandler[] {
  return [requireJson, express.json({ limit, strict: true, type: 'application/json', verify: requireUtf8Body })];
}
