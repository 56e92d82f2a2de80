/**
 * Per-request context: the request id (the client's X-Request-Id when it is tame, else a fresh
 * UUID, echoed in the response), a per-request child logger, a one-line access log, and nosniff.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { requestIdOf } from './errors.js';

/** A client's X-Request-Id is kept (for tracing through a proxy) only when it is this tame. */
const CLIENT_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && CLIENT_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals['requestId'] = requestId;
    res.locals['log'] = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const started = performance.now();
    res.on('finish', () => {
      // The full path (req.path is relative to a router's mount point), never the query: it holds questions.
      const fullPath = req.originalUrl.split('?')[0] ?? '';
      const entry = { requestId, method: req.method, path: fullPath, status: res.statusCode, ms: Math.round(performance.now() - started) };
      // Health and metrics are polled by probes and scrapers: keep them out of the info log.
      if (fullPath === '/api/health' || fullPath.startsWith('/api/health/') || fullPath === '/metrics') logger.debug(entry, 'request');
      else logger.info(entry, 'request');
    });
    next();
  };
}

/** The request's child logger (set by requestContext), else one made from `fallback`. */
export function logOf(res: Response, fallback: Logger): Logger {
  const log: unknown = res.locals['log'];
  return log && typeof log === 'object' && 'info' in log ? (log as Logger) : fallback.child({ requestId: requestIdOf(res) });
}
