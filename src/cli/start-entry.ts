/**
 * What `npm start` runs once it has built: node's flags and the compiled entry point, read from
 * package.json's start script, so that the bench and the compiled-server test follow the script
 * instead of restating it (a start script back on the sources fails them, not passes unnoticed).
 */
import fs from 'node:fs';
import path from 'node:path';

const START = /^npm run --silent build && exec node((?: --[a-z-]+=\S+)*) (dist\/\S+\.js)$/;

export interface StartCommand {
  /** node's own flags in the script (the serving process's heap settings). */
  nodeFlags: string[];
  /** The entry, relative to the project root (dist/cli/serve.js). */
  entry: string;
}

/** The command `npm start` runs relative to `root`; throws when the script no longer builds and runs dist/. */
export function startCommand(root = process.cwd()): StartCommand {
  const script = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts?.start ?? '';
  const match = START.exec(script);
  if (!match) throw new Error(`npm start no longer builds and runs dist/: ${script}`);
  return { nodeFlags: match[1]!.split(' ').filter(Boolean), entry: match[2]! };
}
