/**
 * POST /api/ask (the whole answer) and POST /api/ask/stream (the same answer as server-sent
 * events, stream.ts): one body parser, one log line per answer, a fresh answerId for feedback.
 */
import { Router } from 'express';
import type { Logger } from 'pino';
import type { AskOutput, QaService } from '../qa/types.js';
import { methodNotAllowed } from './errors.js';
import { jsonBody } from './hardening.js';
import { logOf } from './request-context.js';
import { toAskResponse, toCitation } from './responses.js';
import { streamAnswer } from './stream.js';
import type { createRequestParsers } from './validation.js';

export interface AskDeps {
  requireService: () => QaService;
  parsers: ReturnType<typeof createRequestParsers>;
  /** Passages cited when a request names no topK (config DEFAULT_TOP_K). */
  defaultTopK: number;
  logger: Logger;
  /** Log question text at info level (config LOG_QUESTIONS). */
  logQuestions: boolean;
  /** Keeps an answer for feedback and returns its answerId (feedback-routes.ts). */
  remember: (question: string, output: AskOutput, town: string | undefined) => string;
}

export function createAskRoutes(deps: AskDeps): Router {
  const { requireService, parsers, defaultTopK, logger, remember } = deps;
  const router = Router();

  router
    .route('/api/ask')
    .post(...jsonBody(), async (req, res) => {
      const service = requireService();
      const input = parsers.parseAskBody(req.body);
      const { diagnostics, ...output } = await service.ask({ ...input, topK: input.topK ?? defaultTopK });
      logOf(res, logger).info(
        { questionChars: input.question.length, ...(deps.logQuestions ? { question: input.question } : {}), found: output.found, reason: diagnostics.reason, confidence: Number(diagnostics.confidence.toFixed(3)), tookMs: output.tookMs },
        'answered',
      );
      // A fresh answerId for every answer, a cached one too: feedback rates what this resident saw.
      res.json({ ...toAskResponse(output), answerId: remember(input.question, output, input.filters?.town) });
    })
    .all(methodNotAllowed('POST'));

  router
    .route('/api/ask/stream')
    .post(...jsonBody(), async (req, res) => {
      const service = requireService();
      const input = parsers.parseAskBody(req.body);
      await streamAnswer(res, {
        service,
        input: { ...input, topK: input.topK ?? defaultTopK },
        shape: { citations: (citations) => citations.map(toCitation), response: (r) => ({ ...toAskResponse(r), answerId: remember(input.question, r, input.filters?.town) }) },
      });
    })
    .all(methodNotAllowed('POST'));

  return router;
}
