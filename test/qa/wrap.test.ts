/** Wrapping a service: every member forwarded, the replaced calls replaced, values read through. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { QaService } from '../../src/qa/types.js';
import { wrapService } from '../../src/qa/wrap.js';
import { openTestService } from '../services.js';

let service: QaService;

beforeAll(async () => {
  ({ service } = await openTestService());
});

describe('wrapService', () => {
  it('forwards what it does not replace to the wrapped service', async () => {
    const wrapped = wrapService(service, {});
    expect(wrapped.indexVersion).toBe(service.indexVersion);
    expect(wrapped.towns).toEqual(service.towns);
    expect(wrapped.index).toBe(service.index);
    expect(wrapped.stats()).toEqual(service.stats());
    expect(wrapped.listDocuments()).toEqual(service.listDocuments());
    expect(wrapped.cacheStats()).toBeUndefined();
    const { results } = await wrapped.search('高新技术企业', 3);
    expect(results.map((r) => r.chunkId)).toEqual((await service.search('高新技术企业', 3)).results.map((r) => r.chunkId));
  });

  it('calls the replacement of a replaced member, which may call the wrapped one', async () => {
    const asked: string[] = [];
    const wrapped = wrapService(service, { search: (q, k, f) => (asked.push(q), service.search(q, k, f)) });
    await wrapped.search('网格', 2);
    expect(asked).toEqual(['网格']);
  });

  it('reads the wrapped service through, so a wrapped view may change what it reports', () => {
    let version = 'gen-a';
    const view = wrapService(Object.create(service, { indexVersion: { get: () => version } }) as QaService, {});
    version = 'gen-b';
    expect(view.indexVersion).toBe('gen-b');
  });
});
