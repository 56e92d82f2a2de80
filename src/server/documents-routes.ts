/**
 * GET /api/search (passages for a query, with the filters) and GET /api/documents[/:docId] (the
 * reports with their metadata; one with its cleaned text, so a citation's offsets can be shown).
 */
import { Router } from 'express';
import { AppError } from '../errors.js';
import type { QaService } from '../qa/types.js';
import { methodNotAllowed } from './errors.js';
import { toPassage } from './responses.js';
import type { createRequestParsers } from './validation.js';

/** A document id as the index derives it from a file name: word characters, CJK, hyphens. */
const DOC_ID = /^[\w\u4e00-\u9fff-]{1,200}$/;

export interface DocumentsDeps {
  requireService: () => QaService;
  parsers: ReturnType<typeof createRequestParsers>;
}

/** GET /api/search. Mounted after the drafting routes, which extend it when asked to. */
export function createSearchRoute({ requireService, parsers }: DocumentsDeps): Router {
  const router = Router();
  router
    .route('/api/search')
    .get(async (req, res) => {
      const service = requireService();
      const { q, k, filters } = parsers.parseSearchQuery(req.query);
      const { results, tookMs } = await service.search(q, k, Object.keys(filters).length > 0 ? filters : undefined);
      res.json({ results: results.map(toPassage), tookMs });
    })
    .all(methodNotAllowed('GET, HEAD'));
  return router;
}

export function createDocumentsRoutes({ requireService }: Pick<DocumentsDeps, 'requireService'>): Router {
  const router = Router();
  router
    .route('/api/documents')
    .get((_req, res) => {
      res.json({ documents: requireService().listDocuments() });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/api/documents/:docId')
    .get(async (req, res) => {
      const service = requireService();
      const docId = req.params['docId'] ?? '';
      // Ids are checked before any lookup: ../ and friends never reach anything, and are not echoed.
      const document = DOC_ID.test(docId) ? await service.getDocument(docId) : undefined;
      if (!document) {
        throw new AppError('E_DOCUMENT_NOT_FOUND', DOC_ID.test(docId) ? `documents: no document "${docId}"; GET /api/documents lists them` : 'documents: no such document; GET /api/documents lists them');
      }
      res.json(document);
    })
    .all(methodNotAllowed('GET, HEAD'));
  return router;
}
