/**
 * The holder and the reindexer in isolation, with real services over the test index: reindexes
 * never overlap, requests made while one is queued share it, a failed reindex keeps the previous
 * service live and is reported (500 E_REINDEX_FAILED over HTTP, with why).
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/admin/audit.js';
import { createReportStore } from '../../src/admin/reports.js';
import type { QaService } from '../../src/qa/service.js';
import { AppError } from '../../src/errors.js';
import type { IngestSummary } from '../../src/index/build.js';
import { createApp } from '../../src/server/app.js';
import { createReindexer, createServiceHolder, type Rebuild } from '../../src/server/service-holder.js';
import { openTestService } from '../services.js';
import { call, close, expectError, listen, scratch } from './helpers.js';

let service: QaService;
const summary = (indexVersion: string): IngestSummary => ({
  files: 1, documents: 5, chunks: 1, reused: [], embedded: [], removed: [], skipped: [], duplicates: [], spamRemoved: {}, chunksEmbedded: 0, textsEmbedded: 0, embedMs: 0, totalMs: 1, indexVersion,
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ({ service } = await openTestService());
});

describe('createServiceHolder', () => {
  it('reports a load error only while no service is live, and a swap clears it', () => {
    const holder = createServiceHolder();
    expect(holder.current()).toBeUndefined();
    expect(holder.loadError()).toBeUndefined();
    holder.fail(new AppError('E_INDEX_MISSING', 'run `npm run ingest`'));
    expect(holder.loadError()?.code).toBe('E_INDEX_MISSING');
    expect(holder.swap(service)).toBeUndefined();
    expect(holder.current()).toBe(service);
    expect(holder.loadError()).toBeUndefined();
    holder.fail(new AppError('E_INDEX_CORRUPT', 'x'));
    expect(holder.current()).toBe(service);
    expect(holder.loadError()).toBeUndefined();
  });
});

describe('createReindexer', () => {
  it('never runs two rebuilds at once, and requests made while one is queued share it', async () => {
    let running = 0;
    let peak = 0;
    let runs = 0;
    const rebuild: Rebuild = async () => {
      runs += 1;
      running += 1;
      peak = Math.max(peak, running);
      await sleep(50);
      running -= 1;
      return { service, summary: summary(`gen-${runs}`) };
    };
    const reindexer = createReindexer({ holder: createServiceHolder(), rebuild });
    const first = reindexer.start({ trigger: 'a' });
    await sleep(5); // the first one is running now
    const second = reindexer.start({ trigger: 'b' });
    const third = reindexer.start({ trigger: 'c' });
    expect(third.job).toBe(second.job);
    const full = reindexer.start({ full: true, trigger: 'd' });
    expect(full.job).not.toBe(second.job);
    const jobs = await Promise.all([first.done, second.done, third.done, full.done]);
    expect(peak).toBe(1);
    expect(runs).toBe(3);
    expect(jobs.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(jobs[3]!.full).toBe(true);
    await reindexer.idle();
    expect(reindexer.status()?.id).toBe(jobs[3]!.id);
  });

  it('keeps the previous service when a rebuild fails, and says why', async () => {
    const holder = createServiceHolder(service);
    const reindexer = createReindexer({
      holder,
      rebuild: async () => {
        throw new AppError('E_PARSE', 'ingest: 1 file(s) could not be read; the previous index is unchanged');
      },
    });
    const job = await reindexer.start({ trigger: 'test' }).done;
    expect(job).toMatchObject({ state: 'failed', error: { code: 'E_PARSE', message: expect.stringContaining('could not be read') } });
    expect(holder.current()).toBe(service);
  });

  it('tries again while another writer holds the store (E_BUSY), and publishes once it is free', async () => {
    const holder = createServiceHolder();
    let calls = 0;
    const progress: string[] = [];
    const reindexer = createReindexer({
      holder,
      busyRetryMs: [5, 5, 5],
      rebuild: async () => {
        calls++;
        if (calls <= 2) throw new AppError('E_BUSY', 'store: another writer (pid 7 on replica-b) is writing generation gen-x; run again when it has finished');
        progress.push(reindexer.status()?.progress?.stage ?? '');
        return { service, summary: summary('gen-after-wait') };
      },
    });
    const job = await reindexer.start({ trigger: 'test' }).done;
    expect(job).toMatchObject({ state: 'succeeded', busyRetries: 2, summary: { indexVersion: 'gen-after-wait' } });
    expect(calls).toBe(3);
    expect(progress).toEqual(['waiting for another writer']);
    expect(holder.current()).toBe(service);
  });

  it('gives up with E_BUSY when the other writer outlasts every wait, and does not retry other errors', async () => {
    /** A reindexer whose every rebuild throws `err`, with two short waits after E_BUSY. */
    const alwaysFailing = async (err: AppError) => {
      let calls = 0;
      const reindexer = createReindexer({
        holder: createServiceHolder(service),
        busyRetryMs: [5, 5],
        rebuild: async () => {
          calls++;
          throw err;
        },
      });
      return { job: await reindexer.start().done, calls };
    };
    const busy = await alwaysFailing(new AppError('E_BUSY', 'index: another ingest (pid 9) is writing index/; run again when it has finished'));
    expect(busy).toMatchObject({ job: { state: 'failed', busyRetries: 2, error: { code: 'E_BUSY' } }, calls: 3 });
    const broken = await alwaysFailing(new AppError('E_PARSE', 'bad file'));
    expect(broken).toMatchObject({ job: { state: 'failed', error: { code: 'E_PARSE' } }, calls: 1 });
    expect(broken.job.busyRetries).toBeUndefined();
  });
});

describe('POST /api/admin/reindex when the rebuild fails', () => {
  let server: Server;
  let base = '';
  const work = scratch('reindex-fail');
  const token = 'reindex-failure-token-0123456789';

  beforeAll(async () => {
    const holder = createServiceHolder(service);
    const reindexer = createReindexer({
      holder,
      busyRetryMs: [10],
      rebuild: async () => {
        throw new AppError('E_BUSY', 'index: another ingest (pid 4242) is writing index/; run again when it has finished');
      },
    });
    ({ server, base } = await listen(
      createApp({
        getService: holder.current,
        maxQuestionChars: 500,
        defaultTopK: 5,
        web: false,
        admin: { token, reports: createReportStore({ corpusDir: work.dir }), reindexer, audit: createAuditLog(), getService: holder.current, maxUploadBytes: 1024 },
      }),
    ));
  });
  afterAll(async () => {
    await close(server);
    work.remove();
  });

  it('answers 500 E_REINDEX_FAILED saying why, and the previous index keeps answering', async () => {
    const reply = await call(base, '/api/admin/reindex?wait=true', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expectError(reply, 500, 'E_REINDEX_FAILED');
    expect(reply.body.error.message).toMatch(/previous index keeps serving.*E_BUSY.*another ingest/);
    expect((await call(base, '/api/health')).status).toBe(200);
    const status = await call(base, '/api/admin/reindex', { headers: { authorization: `Bearer ${token}` } });
    expect(status.body.reindex).toMatchObject({ state: 'failed', error: { code: 'E_BUSY' } });
  });
});
