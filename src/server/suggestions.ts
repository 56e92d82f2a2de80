/**
 * GET /api/suggestions[?town=]: questions to offer a first-time user, derived from the town's own
 * reports and checked to be answerable (src/answer/suggestions.ts). Answers
 * `{"suggestions": [{"question", "town"}], "towns": [...]}`.
 */
import { Router } from 'express';
import type { QaService } from '../answer/service.js';
import { createSuggester, type Suggester } from '../answer/suggestions.js';
import { AppError } from '../errors.js';
import { methodNotAllowed } from './errors.js';
import { matchTown } from '../domain/towns.js';

/** One suggester per loaded service: a reloaded index gets fresh suggestions. */
const suggesters = new WeakMap<QaService, Suggester>();

function suggesterFor(service: QaService): Suggester {
  let suggester = suggesters.get(service);
  if (!suggester) suggesters.set(service, (suggester = createSuggester(service)));
  return suggester;
}

/**
 * Asks every town's candidates now rather than on the first request: the derived suggestions are
 * not built at ingest yet, and a first widget opened after a start would otherwise wait for them.
 */
export async function warmSuggestions(service: QaService): Promise<void> {
  await suggesterFor(service).suggest();
}

/** The route, mounted at /api/suggestions; `requireService` throws the 503 while none is loaded. */
export function createSuggestionsRoute(requireService: () => QaService): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const service = requireService();
    const query = req.query as Record<string, unknown>;
    const unknown = Object.keys(query).filter((k) => k !== 'town');
    if (unknown.length > 0) throw new AppError('E_UNKNOWN_FILTER', `query: unknown parameter "${unknown[0]!.slice(0, 40)}"; known: town`, { status: 400 });
    const raw = query['town'];
    if (raw !== undefined && typeof raw !== 'string') throw new AppError('E_BAD_REQUEST', 'town: given more than once', { status: 400 });
    const asked = raw?.trim() || undefined;
    // A site may name its town without the suffix (梅李 for 梅李镇), as residents do.
    const town = asked === undefined ? undefined : matchTown(asked, service.towns);
    if (asked !== undefined && town === undefined) {
      const named = [...asked].length <= 50 ? ` "${asked}"` : '';
      throw new AppError('E_UNKNOWN_FILTER', `town: unknown town${named}; known: ${service.towns.join(', ')}`, { status: 400 });
    }
    const suggestions = await suggesterFor(service).suggest(town);
    res.setHeader('Cache-Control', 'public, max-age=300');
    // towns: lets a client settle a town option on a name the service knows.
    res.json({ suggestions, towns: service.towns });
  });
  router.all('/', methodNotAllowed('GET, HEAD'));
  return router;
}
