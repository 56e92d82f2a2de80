/**
 * Whether the API can answer: the service may arrive after the server listens (loading, or
 * building the first index), or fail to load. Until it is there, every /api route but health
 * answers 503 with what is going on and what to run.
 */
import type { RequestHandler } from 'express';
import { AppError, type ErrorCode } from '../errors.js';
import type { QaService } from '../qa/types.js';
import { redactPaths } from './errors.js';

/** A step of building the index, as /api reports it while the server prepares (see getBuildProgress). */
export interface BuildProgress {
  /** `model` (fetching, loading), `load`, `parse`, `embed`, `write`, or `open` (loading the new index). */
  stage: string;
  /** Items done and in all in this stage (texts for `embed`); 0 and 0 when not counted. */
  done: number;
  total: number;
  message?: string | undefined;
}

/** The message of a 503 E_INDEX_BUILDING: where the build is, and what to do meanwhile. */
export function describeBuild(p: BuildProgress): string {
  const count = p.total > 0 ? ` ${p.done}/${p.total} (${Math.floor((100 * p.done) / p.total)}%)` : '';
  return `index being built (stage ${p.stage}${count}${p.message ? `: ${p.message}` : ''}); retry shortly, GET /api/health/ready follows it`;
}

/** Codes a failed load keeps when reported to clients; others are reported as E_INDEX_MISSING. */
const LOAD_CODES = new Set<ErrorCode>(['E_INDEX_MISSING', 'E_INDEX_MISMATCH', 'E_INDEX_CORRUPT', 'E_MODEL_MISSING', 'E_MODEL_FETCH']);

export interface AvailabilitySources {
  getService: () => QaService | undefined;
  getLoadError: () => AppError | undefined;
  getBuildProgress?: (() => BuildProgress | undefined) | undefined;
}

export interface Availability {
  getService(): QaService | undefined;
  getLoadError(): AppError | undefined;
  /** The build under way while no load has failed, else undefined. */
  getBuildProgress(): BuildProgress | undefined;
  /** The error every /api route but health answers while no service is loaded (503 by its code). */
  unavailable(): AppError;
  /** The live service; throws unavailable() while there is none. */
  requireService(): QaService;
  /** Mounted on /api: passes health and everything while a service is loaded, else answers 503. */
  gate(): RequestHandler;
}

export function createAvailability(sources: AvailabilitySources): Availability {
  const { getService, getLoadError } = sources;
  const getBuildProgress = (): BuildProgress | undefined => (getLoadError() ? undefined : sources.getBuildProgress?.());

  const unavailable = (): AppError => {
    const failure = getLoadError();
    const building = getBuildProgress();
    if (building) return new AppError('E_INDEX_BUILDING', describeBuild(building));
    if (!failure) {
      return new AppError('E_INDEX_MISSING', 'index not loaded yet: the server is still loading it; retry shortly (if it never loads, run `npm run ingest`)');
    }
    // The message says what to run; the paths it may name stay on the server.
    const message = redactPaths(failure.message);
    if (LOAD_CODES.has(failure.code)) return new AppError(failure.code, message);
    return new AppError('E_INDEX_MISSING', `index could not be loaded (${failure.code}: ${message}); fix that and run \`npm run ingest\``);
  };
  const requireService = (): QaService => {
    const service = getService();
    if (!service) throw unavailable();
    return service;
  };

  return {
    getService,
    getLoadError,
    getBuildProgress,
    unavailable,
    requireService,
    gate: () => (req, res, next) => {
      if (req.path === '/health' || req.path.startsWith('/health/') || getService()) {
        next();
        return;
      }
      const building = getBuildProgress();
      if (building) {
        // Answered here, not by the error handler: one warning per request while building is noise.
        res.setHeader('Retry-After', '5').status(503).json({ error: { code: 'E_INDEX_BUILDING', message: describeBuild(building) }, progress: building });
        return;
      }
      if (!getLoadError()) res.setHeader('Retry-After', '10');
      next(unavailable());
    },
  };
}
