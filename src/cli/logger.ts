/**
 * How the entry points write logs and fatal errors. Logs go to stderr (stdout stays for answers
 * and tables): coloured, readable lines when stderr is a terminal, one JSON object a line
 * otherwise (service managers, log collectors, tests) or whenever LOG_FORMAT=json.
 * Kept apart from runtime.ts so that `npm start` can log and listen before the model and the
 * answering code are even imported.
 */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config.js';
import { isAppError } from '../errors.js';

/** Whether logs come out as readable lines: LOG_FORMAT, or for `auto` whether stderr is a terminal. */
export function wantsPrettyLogs(format: Config['logFormat'], stderrIsTty = Boolean(process.stderr.isTTY)): boolean {
  return format === 'pretty' || (format === 'auto' && stderrIsTty);
}

export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>): Logger {
  const options = { level: config.logLevel, base: undefined };
  if (!wantsPrettyLogs(config.logFormat)) return pino(options, pino.destination(2));
  // Synchronous and in this thread (no transport worker): lines stay in order with the progress
  // bars that share the terminal, and nothing is lost when the process exits right after a line.
  const stream = pretty({ destination: 2, sync: true, colorize: Boolean(process.stderr.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', singleLine: true });
  return pino(options, stream);
}

/** Ends a CLI with the error's message (never a stack) and a non-zero code. */
export function exitWithError(err: unknown): never {
  const message = isAppError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`${message}\n`);
  process.exit(1);
}
