/**
 * The browser side, served as-is from web/: the embeddable chat widget (/widget.js), the
 * staff/demo page (/), the document view (/documents/:docId) and their assets (/assets/*).
 * No build step: the files are plain, dependency-free JavaScript, CSS and HTML; the labels they
 * show come from src/domain/ (/assets/labels.js, and written into /widget.js as it is served).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type NextFunction, type Response } from 'express';
import { labelsModule, withSharedValues } from './labels-asset.js';

export interface StaticOptions {
  /** Folder holding widget.js, index.html, document.html and the assets. Default: the project's web/. */
  dir?: string;
}

/** The project's web/ folder, found from this module's location (src/server -> ../../web). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** Asset names that may be served: plain file names with a known extension, nothing nested. */
const ASSET_NAME = /^[a-z0-9][\w.-]{0,80}\.(?:js|css|svg|png|ico|woff2)$/i;

/** Cache lifetimes. The widget URL is embedded by other sites and never versioned: keep it short. */
const WIDGET_CACHE = 'public, max-age=300, stale-while-revalidate=86400';
const ASSET_CACHE = 'public, max-age=3600';
/** Pages revalidate on every load (ETag/Last-Modified make that a 304). */
const PAGE_CACHE = 'no-cache';

export function createStaticRoutes(options: StaticOptions = {}): Router {
  const root = path.resolve(options.dir ?? DEFAULT_WEB_DIR);
  const router = Router();

  const send = (res: Response, next: NextFunction, file: string, headers: Record<string, string>): void => {
    res.sendFile(file, { root, headers, dotfiles: 'deny', lastModified: true, etag: true }, (err?: Error & { status?: number; statusCode?: number }) => {
      if (!err) return;
      // A missing file is the ordinary JSON 404; anything else is the error handler's business.
      const status = err.status ?? err.statusCode;
      if (status === 404) next();
      else if (!res.headersSent) next(err);
    });
  };

  router.get('/widget.js', (_req, res, next) => {
    // The widget carries the domain's labels (labels-asset.ts): read, filled in, sent with an ETag.
    fs.promises.readFile(path.join(root, 'widget.js'), 'utf8').then((source) => {
      res.set({
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': WIDGET_CACHE,
        // Other sites load this script: allow it past their CORP/COEP checks and permit SRI
        // (a <script integrity crossorigin> tag needs CORS on the script itself).
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'Access-Control-Allow-Origin': '*',
      });
      res.send(withSharedValues(source));
    }, (err: NodeJS.ErrnoException) => next(err.code === 'ENOENT' ? undefined : err)).catch(next);
  });

  router.get('/assets/labels.js', (_req, res) => {
    res.set({ 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': ASSET_CACHE }).send(labelsModule());
  });

  router.get('/', (_req, res, next) => {
    send(res, next, 'index.html', { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': PAGE_CACHE });
  });

  // The page reads the id from its own URL and fetches the document; an unknown id shows a
  // "not found" message there, so the page itself is served for any single path segment.
  router.get('/documents/:docId', (_req, res, next) => {
    send(res, next, 'document.html', { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': PAGE_CACHE });
  });

  router.get('/assets/:file', (req, res, next) => {
    const file = req.params['file'] ?? '';
    if (!ASSET_NAME.test(file)) {
      next();
      return;
    }
    send(res, next, file, { 'Cache-Control': ASSET_CACHE });
  });

  return router;
}
