/**
 * Starts `npm run db:embedded` (PGlite + pgvector over the wire) in its own process for the
 * benchmarks, so that they reach it over TCP as they would a database server, and stops it.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface EmbeddedDatabase {
  url: string;
  pid: number;
  /** SIGTERM, and wait for the process to exit. */
  stop(): Promise<void>;
}

/** The server on a free port; `dataDir` keeps its data on disk (default: in memory). */
export function startEmbeddedDatabase(dataDir?: string): Promise<EmbeddedDatabase> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', path.join(ROOT, 'src/cli/db-embedded.ts'), '--port', '0', ...(dataDir ? ['--data', dataDir] : [])];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) {
        resolve({
          url: m[1]!,
          pid: child.pid!,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`db:embedded exited (${code}) before listening`)));
  });
}
