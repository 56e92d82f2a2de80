/**
 * What the by-hand event-loop measurements (reload-steps.ts, answer-steps.ts) share: the index
 * they read (an argument, else the test index), the embedding pool as the server builds it, and
 * a 1-ms interval timer whose longest gap between ticks while a step runs is the longest time the
 * loop could not answer anything.
 */
import path from 'node:path';
import type { Config } from '../../src/config.js';
import { createEmbedderPool, type PooledEmbedder } from '../../src/embed/pool.js';
import { readManifest, type Manifest } from '../../src/index/store.js';

/** The index folder named on the command line (default: the test index) and its manifest. */
export function measuredIndex(): { indexDir: string; manifest: Manifest } {
  const indexDir = path.resolve(process.argv[2] ?? process.env['TEST_INDEX_DIR'] ?? 'node_modules/.cache/test-index');
  const manifest = readManifest(indexDir);
  if (!manifest) throw new Error(`no index in ${indexDir}: run the tests once (they build it) or pass an index folder`);
  return { indexDir, manifest };
}

/** The embedding pool with the server's settings (EMBED_WORKERS, else 2). */
export function openPool(config: Config): Promise<PooledEmbedder> {
  return createEmbedderPool({ modelDir: config.modelDir, modelId: config.embeddingModel, batchSize: config.embedBatchSize, queryInstruction: config.queryInstruction, size: config.embedWorkers || 2 });
}

export interface GapWatch {
  /** Runs `run` and says its wall time and the longest event-loop gap while it ran, in ms. */
  measure<T>(run: () => T | Promise<T>): Promise<{ result: T; wallMs: number; gapMs: number }>;
  stop(): void;
}

export function watchLoopGaps(): GapWatch {
  let last = performance.now();
  let longest = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));
  return {
    async measure(run) {
      await settle();
      longest = 0;
      last = performance.now();
      const started = performance.now();
      const result = await run();
      const wallMs = performance.now() - started;
      // The tick after a synchronous step is what shows its gap.
      await settle();
      return { result, wallMs, gapMs: longest };
    },
    stop: () => clearInterval(ticker),
  };
}
