/**
 * What makes the service safe to embed on a government site: security headers with a strict
 * Content-Security-Policy (helmet), and CORS that lets only the origins named in ALLOWED_ORIGINS
 * (plus the service's own origin) call the API from a browser.
 */
import type { Request, RequestHandler } from 'express';
import helmet from 'helmet';
import { AppError } from '../errors.js';

/**
 * The CSP of every response. The pages and the widget are plain files served from this origin:
 * no inline script, no inline event handler, no eval, no third-party resource. The widget's
 * styles live in a constructed stylesheet (adoptedStyleSheets), which style-src does not govern.
 * Trusted Types are required, so any attempt to assign a string to innerHTML (or another HTML
 * sink) on these pages throws instead of parsing corpus text as markup.
 */
export const CONTENT_SECURITY_POLICY: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'"],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'self'"],
  'require-trusted-types-for': ["'script'"],
  'trusted-types': ["'none'"],
};

/** Security headers (helmet) with the CSP above. */
export function securityHeaders(): RequestHandler {
  const directives: Record<string, string[] | null> = Object.fromEntries(Object.entries(CONTENT_SECURITY_POLICY).map(([k, v]) => [k, [...v]]));
  // Behind plain http (a test server, an intranet), upgrading would break every subresource.
  directives['upgrade-insecure-requests'] = null;
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives },
    // The API is read cross-origin through CORS; /widget.js overrides this with cross-origin.
    crossOriginResourcePolicy: { policy: 'same-site' },
    // Citation links open the document view in a new tab; the opener keeps no handle on it.
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    xFrameOptions: { action: 'sameorigin' },
  });
}

export interface CorsOptions {
  /**
   * Origins (scheme://host[:port]) whose pages may call the API, as config ALLOWED_ORIGINS
   * parses them. The service's own origin is always allowed. Default: none besides it.
   */
  allowedOrigins?: readonly string[];
  /**
   * Paths under /api that only the service's own pages may call from a browser, whatever
   * ALLOWED_ORIGINS says: town sites embed the public Q&A, not staff tools. Default: /admin.
   */
  ownOriginOnly?: readonly string[];
}

/** Headers a widget needs to read from cross-origin responses (the 429's Retry-After above all). */
const EXPOSED_HEADERS = 'Retry-After, X-Request-Id, RateLimit, RateLimit-Policy';
/** Seconds a browser may cache a preflight answer. */
const PREFLIGHT_MAX_AGE = '600';

/** True when the Origin header names the host the request was sent to (the widget's own origin). */
function isSameOrigin(req: Request, origin: string): boolean {
  const host = req.get('host');
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * CORS for /api: an allowed origin gets Access-Control-Allow-Origin (echoed, never `*`, with
 * `Vary: Origin`), and its preflights get 204 with the methods and headers the API uses. A
 * preflight from any other origin is refused with 403 and no CORS header, so the browser blocks
 * the call; simple requests from it are answered without CORS headers, so the page cannot read
 * the answer. Requests without an Origin (curl, servers) are not affected.
 */
export function apiCors(options: CorsOptions = {}): RequestHandler {
  const allowed = new Set((options.allowedOrigins ?? []).map((o) => o.toLowerCase()));
  const ownOnly = options.ownOriginOnly ?? ['/admin'];
  return (req, res, next) => {
    const origin = req.get('origin');
    res.vary('Origin');
    const preflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (!origin) {
      next();
      return;
    }
    const listed = allowed.has(origin.toLowerCase()) && !ownOnly.some((p) => req.path === p || req.path.startsWith(`${p}/`));
    const permitted = listed || isSameOrigin(req, origin);
    if (!permitted) {
      if (preflight) next(new AppError('E_BAD_REQUEST', 'cors: this origin is not allowed to call the API; add it to ALLOWED_ORIGINS', { status: 403 }));
      else next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (preflight) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Request-Id');
      res.setHeader('Access-Control-Max-Age', PREFLIGHT_MAX_AGE);
      res.status(204).end();
      return;
    }
    next();
  };
}
