/**
 * How a listing over all towns reads the store (GET /api/commitments, GET /api/indicators): a few
 * towns at a time, each part let go before the next is read, so that its memory is that of a few
 * towns' records, not of the whole corpus' (500 reports' commitment book alone is ~130 MB of
 * objects, 5,000 reports' indicator table ~100 MB).
 */
export const TOWNS_PER_READ = 20;

/** The towns in parts of at most `size`, in order; one empty part for no towns (a read still names the generation). */
export function townBatches(towns: readonly string[], size = TOWNS_PER_READ): string[][] {
  const parts: string[][] = [];
  for (let i = 0; i === 0 || i < towns.length; i += size) parts.push(towns.slice(i, i + size));
  return parts;
}
