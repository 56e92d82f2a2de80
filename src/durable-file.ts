/**
 * Writing files so that they survive a crash: the one home of open, write, fsync, close (used by
 * the index generations, the store's derived records, report uploads and the feedback log). A
 * caller that must not expose a half-written file writes a temporary name and renames it.
 */
import fs from 'node:fs';

/** Writes `data` through one descriptor opened with `flags` (and `mode` when it creates the file), then fsyncs it. */
export function writeSynced(file: string, data: string | Uint8Array, flags = 'w', mode?: number): void {
  const fd = fs.openSync(file, flags, mode);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `file` whole: written and synced under `<file>.tmp`, then renamed over it. */
export function writeFileDurably(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp`;
  writeSynced(tmp, data);
  fs.renameSync(tmp, file);
}

/** Flushes what is already at `target` (a file, or a directory after a rename in it) to disk. */
export function fsyncPath(target: string, flags = 'r'): void {
  const fd = fs.openSync(target, flags);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
