/**
 * Where feedback lives: an append-only JSON-lines file (one entry a line, fsynced before the
 * request is answered, so an acknowledged rating survives a crash or a restart), or memory for
 * tests and for a server started without a folder. One interface, so a PostgreSQL store can
 * take the file's place when that back-end is chosen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeSynced } from '../durable-file.js';
import { AppError } from '../errors.js';
import type { AnswerRecord } from './answers.js';

/** A resident's rating of one answer, with the answer it rates. */
export interface FeedbackEntry extends AnswerRecord {
  kind: 'feedback';
  rating: 'up' | 'down';
  /** One of the quick reasons (答案不对 / 没有回答我的问题 / 引用不对), when one was picked. */
  feedbackReason?: string;
  /** What the resident typed, as typed. */
  comment?: string;
  /** ISO time of the feedback (`at` is the answer's). */
  ratedAt: string;
}

/** A question the reports did not answer, logged only when LOG_QUESTIONS is on. */
export interface UnansweredEntry extends AnswerRecord {
  kind: 'unanswered';
}

export type StoredEntry = FeedbackEntry | UnansweredEntry;

export interface FeedbackStore {
  append(entry: StoredEntry): Promise<void>;
  /** Every entry, oldest first. */
  list(): Promise<StoredEntry[]>;
}

export function createMemoryFeedbackStore(): FeedbackStore {
  const entries: StoredEntry[] = [];
  return {
    async append(entry) {
      entries.push(structuredClone(entry));
    },
    async list() {
      return entries.map((e) => structuredClone(e));
    },
  };
}

export interface FileFeedbackStoreOptions {
  /** Folder of the file (config FEEDBACK_DIR); created when missing. */
  dir: string;
  /** File name inside it. Default feedback.jsonl. */
  file?: string;
}

/**
 * The file store. Writes are serialised (one append at a time, each fsynced); reading parses the
 * file, skipping a torn last line that a crash mid-write may leave.
 */
export function createFileFeedbackStore(options: FileFeedbackStoreOptions): FeedbackStore {
  const file = path.join(options.dir, options.file ?? 'feedback.jsonl');
  let queue: Promise<void> = Promise.resolve();
  const write = (line: string): void => {
    fs.mkdirSync(options.dir, { recursive: true });
    writeSynced(file, line, 'a', 0o600);
  };
  return {
    append(entry) {
      const line = `${JSON.stringify(entry)}\n`;
      const next = queue.then(() => {
        try {
          write(line);
        } catch (err) {
          throw new AppError('E_INTERNAL', `feedback: could not store the entry (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
        }
      });
      queue = next.catch(() => undefined);
      return next;
    },
    async list() {
      await queue;
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
      const entries: StoredEntry[] = [];
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        try {
          const entry = JSON.parse(line) as StoredEntry;
          if (entry && (entry.kind === 'feedback' || entry.kind === 'unanswered')) entries.push(entry);
        } catch {
          // A torn line from a crash mid-append: the entries around it still count.
        }
      }
      return entries;
    },
  };
}
