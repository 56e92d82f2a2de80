/**
 * The admin API as the feedback and insights tests mount it: a real report store, audit log and
 * service holder in a scratch folder, a reindexer whose rebuild always fails (these tests never
 * reindex; the admin-api tests build their own). One place, so the pages' tests stay in step.
 */
import path from 'node:path';
import type { QaService } from '../src/qa/service.js';
import { createAuditLog } from '../src/admin/audit.js';
import { createReportStore } from '../src/admin/reports.js';
import type { AdminDeps } from '../src/server/admin-routes.js';
import { createReindexer, createServiceHolder } from '../src/server/service-holder.js';

export interface TestAdminOptions {
  token: string;
  /** Scratch folder: audit.jsonl, and corpus/ unless corpusDir is given. */
  dir: string;
  corpusDir?: string;
}

export function testAdminDeps(service: QaService, options: TestAdminOptions): AdminDeps {
  const holder = createServiceHolder(service);
  return {
    token: options.token,
    reports: createReportStore({ corpusDir: options.corpusDir ?? path.join(options.dir, 'corpus') }),
    reindexer: createReindexer({ holder, rebuild: () => Promise.reject(new Error('no reindex in this test')) }),
    audit: createAuditLog({ file: path.join(options.dir, 'audit.jsonl') }),
    getService: () => service,
    maxUploadBytes: 1024,
  };
}
