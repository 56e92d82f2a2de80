/** Filter validation: known towns and covered years pass, anything else is E_UNKNOWN_FILTER naming what is known. */
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors.js';
import { checkFilters, coveredYearsOf } from '../../src/qa/filters.js';
import { openTestService } from '../services.js';

const SCOPE = { towns: ['梅李镇', '牛塘镇'], years: [2020, 2022, 2023] };

function refusal(run: () => void): { code: string; message: string } {
  try {
    run();
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('checkFilters', () => {
  it('passes no filters, a known town, a covered year and a role', () => {
    expect(() => checkFilters(undefined, SCOPE)).not.toThrow();
    expect(() => checkFilters({}, SCOPE)).not.toThrow();
    expect(() => checkFilters({ town: '牛塘镇', year: 2022, role: 'plan' }, SCOPE)).not.toThrow();
  });

  it('refuses an unknown town with E_UNKNOWN_FILTER listing the known towns', () => {
    expect(refusal(() => checkFilters({ town: '周庄镇' }, SCOPE))).toEqual({ code: 'E_UNKNOWN_FILTER', message: 'filters.town: unknown town "周庄镇"; known: 梅李镇, 牛塘镇' });
  });

  it('refuses a year no report covers, listing the covered years', () => {
    expect(refusal(() => checkFilters({ year: 2021 }, SCOPE))).toEqual({ code: 'E_UNKNOWN_FILTER', message: 'filters.year: no report covers 2021; covered: 2020, 2022, 2023' });
  });

  it('raises a code only: the HTTP status is the error handler\'s', () => {
    expect.assertions(1);
    try {
      checkFilters({ town: 'x' }, SCOPE);
    } catch (err) {
      expect(isAppError(err) && err.status).toBe(undefined);
    }
  });
});

describe('coveredYearsOf', () => {
  it('lists each covered year once, ascending', () => {
    expect(coveredYearsOf([{ years: [2023, 2022] }, { years: [2022, 2019] }])).toEqual([2019, 2022, 2023]);
  });

  it('covers the real corpus: every report year passes the filter, the year before the first does not', async () => {
    const { service } = await openTestService();
    const documents = service.listDocuments();
    const scope = { towns: service.towns, years: coveredYearsOf(documents) };
    for (const d of documents) for (const year of d.years) expect(() => checkFilters({ town: d.town, year }, scope)).not.toThrow();
    expect(refusal(() => checkFilters({ year: scope.years[0]! - 1 }, scope)).code).toBe('E_UNKNOWN_FILTER');
  });
});
