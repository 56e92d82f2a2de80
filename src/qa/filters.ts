/**
 * Filter validation of a question or a search: a town filter must name a town of the corpus, a
 * year filter a year some report covers. The caller's mistake is an E_UNKNOWN_FILTER whose
 * message lists what is known (the server's error handler makes it a 400).
 */
import { AppError } from '../errors.js';
import type { SearchFilters } from '../domain/types.js';

/** What a filter may name: the corpus' towns and the years its reports cover. */
export interface FilterScope {
  towns: readonly string[];
  /** Covered years, ascending, without repeats. */
  years: readonly number[];
}

/** The years a set of reports covers, ascending, without repeats (the scope's `years`). */
export function coveredYearsOf(documents: ReadonlyArray<{ years: readonly number[] }>): number[] {
  return [...new Set(documents.flatMap((d) => d.years))].sort((a, b) => a - b);
}

/** Throws E_UNKNOWN_FILTER for a town or year outside the scope; passes anything else. */
export function checkFilters(filters: SearchFilters | undefined, scope: FilterScope): void {
  if (filters?.town !== undefined && !scope.towns.includes(filters.town)) {
    throw new AppError('E_UNKNOWN_FILTER', `filters.town: unknown town "${filters.town}"; known: ${scope.towns.join(', ')}`);
  }
  if (filters?.year !== undefined && !scope.years.includes(filters.year)) {
    throw new AppError('E_UNKNOWN_FILTER', `filters.year: no report covers ${filters.year}; covered: ${scope.years.join(', ')}`);
  }
}
