/**
 * The ingest's progress as the terminal shows it, shared by `npm run ingest` and `npm start`
 * (which builds the first index before it can answer): a bar per stage on a terminal, plain
 * lines through the caller's `onLine` otherwise (logs, CI).
 */
import cliProgress from 'cli-progress';

export interface ProgressDisplay {
  update(stage: string, done: number, total: number): void;
  /** Stops the bars (leaving them on screen); further updates are ignored. */
  stop(): void;
}

/** Stage names padded to one width, as the bars show them. */
const LABEL: Record<string, string> = { load: 'read  ', parse: 'parse ', embed: 'embed ', write: 'write ', publish: 'publish ' };

export const stageLabel = (stage: string): string => LABEL[stage] ?? stage.padEnd(6);

export interface ProgressDisplayOptions {
  /** Where the bars go. Default: stderr (stdout stays for results). */
  stream?: NodeJS.WriteStream;
  /** Without a terminal, called for every update instead of drawing bars; callers choose which to print. */
  onLine?: (stage: string, done: number, total: number) => void;
}

export function createProgressDisplay(options: ProgressDisplayOptions = {}): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  const interactive = Boolean(stream.isTTY);
  let bars: cliProgress.MultiBar | undefined;
  const active = new Map<string, cliProgress.SingleBar>();
  let stopped = false;
  return {
    update(stage, done, total) {
      if (stopped) return;
      if (!interactive) {
        options.onLine?.(stage, done, total);
        return;
      }
      bars ??= new cliProgress.MultiBar(
        { format: '{stage} [{bar}] {value}/{total}', stream, hideCursor: true, noTTYOutput: false, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      );
      let bar = active.get(stage);
      if (!bar) {
        bar = bars.create(total, 0, { stage: stageLabel(stage) });
        active.set(stage, bar);
      }
      bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      stopped = true;
      bars?.stop();
    },
  };
}
