/**
 * What `npm start` runs once it has built: the compiled entry point, read from package.json's
 * start script, so that the bench and the compiled-server test follow the script instead of
 * restating it (a start script back on the sources fails them, not passes unnoticed).
 */
import fs from 'node:fs';
import path from 'node:path';

const START = /^npm run --silent build && exec node (dist\/\S+\.js)$/;

/** The entry `npm start` runs (dist/cli/serve.js), relative to `root`; throws when the script no longer builds and runs dist/. */
export function startEntry(root = process.cwd()): string {
  const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts?.start ?? '';
  const entry = START.exec(script)?.[1];
  if (!entry) throw new Error(`npm start no longer builds and runs dist/: ${script}`);
  return entry;
}
