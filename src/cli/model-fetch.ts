/**
 * Entry point of `npm run model:fetch`: reads the config, puts the embedding model under MODEL_DIR
 * (see src/embed/model-fetch.ts for the ways it tries) and reports what it did.
 */
import 'dotenv/config';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.js';
import { isAppError } from '../errors.js';
import { ensureModel, type ModelFetchProgress } from '../embed/model-fetch.js';

const interactive = Boolean(process.stderr.isTTY);

/** A byte bar per downloaded file on a terminal (files arrive concurrently); stage lines otherwise. */
function progressReporter(): { onProgress: (e: ModelFetchProgress) => void; stop: () => void } {
  let bars: cliProgress.MultiBar | undefined;
  const byFile = new Map<string, cliProgress.SingleBar>();
  const stop = (): void => {
    bars?.stop();
    bars = undefined;
    byFile.clear();
  };
  const onProgress = (e: ModelFetchProgress): void => {
    if (e.stage === 'hub' && e.file !== undefined && e.loaded !== undefined) {
      const total = e.total ?? 0;
      if (interactive) {
        bars ??= new cliProgress.MultiBar(
          { format: '  {file} [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        const bar = byFile.get(e.file);
        if (!bar) {
          byFile.set(e.file, bars.create(total, e.loaded, { file: e.file }));
        } else {
          if (total > 0) bar.setTotal(total);
          bar.update(e.loaded);
        }
      } else if (total > 0 && e.loaded >= total) {
        process.stderr.write(`[hub] downloaded ${e.file} (${(total / 1e6).toFixed(1)} MB)\n`);
      }
      return;
    }
    stop();
    // The summary comes last, on stdout (below); a fallback line says why a way failed and what is next.
    if (e.stage !== 'done') process.stderr.write(`[${e.stage}] ${e.message}\n`);
  };
  return { onProgress, stop };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const reporter = progressReporter();
  try {
    const result = await ensureModel({
      modelDir: config.modelDir,
      modelId: config.embeddingModel,
      hfEndpoint: config.hfEndpoint,
      mavenVersions: config.mavenVersions,
      onProgress: reporter.onProgress,
    });
    reporter.stop();
    process.stdout.write(`${config.embeddingModel}: ${result.summary} (${result.modelPath})\n`);
  } finally {
    reporter.stop();
  }
}

main().then(
  // Exit explicitly: an abandoned download may still hold a socket open.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${isAppError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
