/**
 * Entry point of `npm run admin -- <command>`: report management for staff, the same operations
 * as the admin API. By default it works on CORPUS_DIR and INDEX_DIR directly; with `--server URL`
 * (and ADMIN_TOKEN in the environment) it calls a running server's /api/admin instead, so the
 * server swaps the new index in without a restart. Every action goes to the audit log.
 *
 *   list                          reports with their metadata and ingest status
 *   add <file> [--name N]         add a report (checked like an upload)
 *   replace <docId> <file>        replace a report, keeping its id
 *   remove <docId>                move a report to the corpus' .trash/
 *   reindex [--full]              update the index (new, changed and removed reports)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { createAuditLog, cleanActor, type AuditLog } from '../admin/audit.js';
import { createReportStore, type ReportEntry, type ReportStore } from '../admin/reports.js';
import { AppError, isAppError, type ErrorCode } from '../errors.js';
import { currentGeneration, readManifest } from '../index/store.js';
import type { ParsedDocument } from '../domain/types.js';
import { createLogger, exitWithError, loadConfig, openEmbedder, runIngest } from './runtime.js';

const config = loadConfig();
const actor = cleanActor(process.env['ADMIN_USER'] ?? os.userInfo().username, 'cli');

interface Global {
  server?: string;
  json: boolean;
}

const program = new Command()
  .name('admin')
  .description('Manage the reports: list, add, replace, remove, reindex')
  .option('--server <url>', 'act through a running server\'s admin API (needs ADMIN_TOKEN)')
  .option('--json', 'print JSON', false);

const globals = (): Global => program.opts<Global>();
const print = (line: string): void => void process.stdout.write(`${line}\n`);

/** A running server's admin API. */
async function callServer(method: string, route: string, body?: { bytes: Buffer; name: string }): Promise<unknown> {
  const base = globals().server!.replace(/\/+$/, '');
  if (!config.adminToken) throw new AppError('E_CONFIG', 'admin: --server needs ADMIN_TOKEN (the server\'s token) in the environment');
  const res = await fetch(`${base}/api/admin${route}`, {
    method,
    headers: {
      authorization: `Bearer ${config.adminToken}`,
      'x-admin-user': actor,
      ...(body ? { 'content-type': 'application/octet-stream', 'x-file-name': encodeURIComponent(body.name) } : {}),
    },
    ...(body ? { body: new Uint8Array(body.bytes) } : {}),
  });
  const json = (await res.json().catch(() => undefined)) as { error?: { code?: ErrorCode; message?: string } } | undefined;
  if (!res.ok) throw new AppError(json?.error?.code ?? 'E_INTERNAL', json?.error?.message ?? `server answered ${res.status}`);
  return json;
}

function local(): { reports: ReportStore; audit: AuditLog } {
  return {
    reports: createReportStore({ corpusDir: config.corpusDir, maxBytes: config.maxUploadBytes }),
    audit: createAuditLog({ file: config.auditLog }),
  };
}

/** Runs a local action and audits its outcome. */
async function audited<T>(audit: AuditLog, action: string, target: string | undefined, run: () => Promise<T>, detail?: (result: T) => Record<string, unknown>): Promise<T> {
  try {
    const result = await run();
    audit.record({ actor, via: 'cli', action, outcome: 'ok', ...(target ? { target } : {}), ...(detail ? { detail: detail(result) } : {}) });
    return result;
  } catch (err) {
    audit.record({ actor, via: 'cli', action, outcome: 'failed', ...(target ? { target } : {}), detail: { code: isAppError(err) ? err.code : 'E_INTERNAL' } });
    throw err;
  }
}

function readFileArg(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (cause) {
    throw new AppError('E_BAD_REQUEST', `admin: cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}

/** Metadata of the live index's documents, read without loading the model. */
function liveDocuments(): Map<string, ReportEntry['meta']> {
  const generation = currentGeneration(config.indexDir);
  const out = new Map<string, ReportEntry['meta']>();
  if (!generation) return out;
  try {
    const docs = JSON.parse(fs.readFileSync(path.join(config.indexDir, generation, 'documents.json'), 'utf8')) as ParsedDocument[];
    for (const d of docs) out.set(d.meta.docId, { title: d.meta.title, town: d.meta.town, district: d.meta.district, date: d.meta.date, years: d.meta.years });
  } catch {
    // A damaged index shows up as every report pending.
  }
  return out;
}

function printReports(reports: ReportEntry[]): void {
  if (reports.length === 0) {
    print('no reports');
    return;
  }
  for (const r of reports) {
    const meta = r.meta ? `  ${r.meta.town} ${r.meta.date} 《${r.meta.title}》` : '';
    print(`${r.status.padEnd(9)} ${r.docId}  (${r.file}${r.bytes !== undefined ? `, ${r.bytes} bytes` : ''})${meta}${r.statusDetail ? `  — ${r.statusDetail}` : ''}`);
  }
}

async function reindexLocally(full: boolean): Promise<void> {
  const { audit } = local();
  const log = createLogger(config);
  const summary = await audited(
    audit,
    'reindex',
    undefined,
    async () => runIngest(config, await openEmbedder(config, log), { skipBad: true, full }),
    (s) => ({ indexVersion: s.indexVersion, documents: s.documents, embedded: s.embedded.length, skipped: s.skipped.length }),
  );
  if (globals().json) {
    print(JSON.stringify(summary, null, 2));
    return;
  }
  for (const s of summary.skipped) print(`skipped ${s.file}: ${s.message}`);
  print(`indexed ${summary.documents} report(s), ${summary.chunks} passages; embedded ${summary.embedded.length}, reused ${summary.reused.length}, removed ${summary.removed.length}; index ${summary.indexVersion}`);
  print('a running server serves the new index after its own reindex (POST /api/admin/reindex, or `npm run admin -- --server URL reindex`) or a restart');
}

program
  .command('list')
  .description('reports with their metadata and ingest status')
  .action(async () => {
    if (globals().server) {
      const reply = (await callServer('GET', '/documents')) as { documents: ReportEntry[] };
      if (globals().json) print(JSON.stringify(reply, null, 2));
      else printReports(reply.documents);
      return;
    }
    const { reports, audit } = local();
    const list = await audited(audit, 'documents.list', undefined, () => reports.list({ manifest: readManifest(config.indexDir), documents: liveDocuments() }), (l) => ({ count: l.length }));
    if (globals().json) print(JSON.stringify({ documents: list }, null, 2));
    else printReports(list);
  });

program
  .command('add <file>')
  .description('add a report (.txt .md .html .docx .pdf)')
  .option('--name <name>', 'file name in the corpus (default: the file\'s own)')
  .option('--reindex', 'reindex right after', false)
  .action(async (file: string, opts: { name?: string; reindex: boolean }) => {
    const name = opts.name ?? path.basename(file);
    const bytes = readFileArg(file);
    if (globals().server) {
      print(JSON.stringify(await callServer('POST', `/documents?reindex=${opts.reindex}`, { bytes, name })));
      return;
    }
    const { reports, audit } = local();
    const saved = await audited(audit, 'documents.add', name, () => reports.add({ name, bytes }), (s) => ({ file: s.file, docId: s.docId, bytes: s.bytes, sha256: s.sha256 }));
    print(globals().json ? JSON.stringify(saved) : `added ${saved.file} as ${saved.docId} (pending until reindexed)`);
    if (opts.reindex) await reindexLocally(false);
  });

program
  .command('replace <docId> <file>')
  .description('replace a report by a new version, keeping its id')
  .option('--reindex', 'reindex right after', false)
  .action(async (docId: string, file: string, opts: { reindex: boolean }) => {
    const bytes = readFileArg(file);
    // The replacement keeps the report's name; only its extension follows the new file.
    const ext = path.extname(file).toLowerCase();
    if (globals().server) {
      print(JSON.stringify(await callServer('PUT', `/documents/${encodeURIComponent(docId)}?reindex=${opts.reindex}`, { bytes, name: `${docId}${ext}` })));
      return;
    }
    const { reports, audit } = local();
    const existing = (await reports.list()).find((r) => r.docId === docId && r.status !== 'deleted');
    const name = existing ? `${path.posix.basename(existing.file, path.extname(existing.file))}${ext}` : `${docId}${ext}`;
    const saved = await audited(audit, 'documents.replace', docId, () => reports.replace(docId, { name, bytes }), (s) => ({ file: s.file, replaced: s.replaced, sha256: s.sha256 }));
    print(globals().json ? JSON.stringify(saved) : `replaced ${saved.replaced} by ${saved.file} (pending until reindexed)`);
    if (opts.reindex) await reindexLocally(false);
  });

program
  .command('remove <docId>')
  .description("move a report to the corpus' .trash/")
  .option('--reindex', 'reindex right after', false)
  .action(async (docId: string, opts: { reindex: boolean }) => {
    if (globals().server) {
      print(JSON.stringify(await callServer('DELETE', `/documents/${encodeURIComponent(docId)}?reindex=${opts.reindex}`)));
      return;
    }
    const { reports, audit } = local();
    const removed = await audited(audit, 'documents.remove', docId, () => reports.remove(docId), (r) => ({ file: r.file, trashedAs: r.trashedAs }));
    print(globals().json ? JSON.stringify(removed) : `removed ${removed.file} (kept as ${removed.trashedAs}); it leaves the index at the next reindex`);
    if (opts.reindex) await reindexLocally(false);
  });

program
  .command('reindex')
  .description('update the index from the reports (unreadable ones are skipped and listed)')
  .option('--full', 're-embed every report', false)
  .action(async (opts: { full: boolean }) => {
    if (globals().server) {
      print(JSON.stringify(await callServer('POST', `/reindex?wait=true&full=${opts.full}`), null, 2));
      return;
    }
    await reindexLocally(opts.full);
  });

program.parseAsync().catch(exitWithError);
