/**
 * GET /api/health (counts, or why there are none yet) and the probes: /api/health/live while the
 * process serves HTTP at all, /api/health/ready only while it answers questions.
 */
import { Router } from 'express';
import { describeBuild, type Availability } from './availability.js';
import { methodNotAllowed } from './errors.js';

export interface HealthDeps {
  availability: Availability;
  isShuttingDown: () => boolean;
}

export function createHealthRoutes({ availability, isShuttingDown }: HealthDeps): Router {
  const { getService, getLoadError, getBuildProgress, unavailable } = availability;
  const router = Router();

  router
    .route('/api/health')
    .get((_req, res) => {
      const service = getService();
      if (service) {
        const { documents, chunks } = service.stats();
        res.json({ status: 'ok', documents, chunks, embeddingModel: service.embeddingModel, indexVersion: service.indexVersion });
        return;
      }
      const failure = getLoadError();
      const building = getBuildProgress();
      if (building) {
        res.setHeader('Retry-After', '5').status(503).json({ status: 'building', error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
        return;
      }
      if (!failure) {
        res.setHeader('Retry-After', '10');
        res.status(503).json({ status: 'loading' });
        return;
      }
      const { code, message } = unavailable();
      res.status(503).json({ status: 'no-index', error: { code, message } });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/api/health/live')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      res.json({ status: 'alive' });
    })
    .all(methodNotAllowed('GET, HEAD'));

  router
    .route('/api/health/ready')
    .get((_req, res) => {
      res.setHeader('Cache-Control', 'no-store');
      const service = getService();
      if (isShuttingDown()) res.status(503).json({ status: 'stopping' });
      else if (service) res.json({ status: 'ready', indexVersion: service.indexVersion });
      else if (getBuildProgress()) {
        const building = getBuildProgress()!;
        res.setHeader('Retry-After', '5').status(503).json({ status: 'building', error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
      }
      else if (!getLoadError()) res.setHeader('Retry-After', '10').status(503).json({ status: 'loading' });
      else res.status(503).json({ status: 'no-index', error: { code: unavailable().code, message: unavailable().message } });
    })
    .all(methodNotAllowed('GET, HEAD'));

  return router;
}
