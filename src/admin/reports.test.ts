import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createReportStore } from './reports.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A corpus folder holding `file`, last modified at `mtimeMs`. */
function corpusWith(file: string, mtimeMs: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reports-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, file), 'not a report');
  fs.utimesSync(path.join(dir, file), new Date(mtimeMs), new Date(mtimeMs));
  return dir;
}

describe('a report the last reindex could not read', () => {
  const started = Date.parse('2026-12-06T18:00:00.123Z');
  const lastFailures = { startedAt: new Date(started).toISOString(), skipped: [{ file: 'bad.pdf', message: 'load: bad.pdf: no text layer' }] };
  const statusAt = async (mtimeMs: number) => {
    const [entry] = await createReportStore({ corpusDir: corpusWith('bad.pdf', mtimeMs) }).list({ lastFailures });
    return entry!;
  };

  it('is failed, with why, when it was written before the run started, or in the same millisecond', async () => {
    for (const mtime of [started - 5_000, started - 1, started, started + 0.7]) {
      expect(await statusAt(mtime), `mtime ${mtime - started} ms from the start`).toMatchObject({ status: 'failed', statusDetail: 'bad.pdf: no text layer' });
    }
  });

  it('is pending when it changed after the run started (that run did not try this version)', async () => {
    expect((await statusAt(started + 1)).status).toBe('pending');
    expect((await statusAt(started + 60_000)).status).toBe('pending');
  });
});
