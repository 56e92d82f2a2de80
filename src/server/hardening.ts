/**
 * Guards for what reaches the routes of a public server: bodies and query strings must be valid
 * UTF-8 (a decoder would otherwise turn bad bytes into U+FFFD and the service would answer a
 * question nobody asked), and a server that is shutting down refuses new requests while the
 * ones in flight finish.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { AppError } from '../errors.js';

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
        next(new AppError('E_BAD_REQUEST', 'query: malformed or not UTF-8 percent-encoding', { status: 400 }));
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
    next(new AppError('E_SHUTTING_DOWN', 'the server is shutting down; retry in a few seconds', { status: 503 }));
  };
}
