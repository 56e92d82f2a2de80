/**
 * The entry points' logs (src/cli/logger.ts), written for real by a child process: readable lines
 * with LOG_FORMAT=pretty, one JSON object a line with LOG_FORMAT=json or when `auto` writes to
 * something that is not a terminal (a pipe, here), and `auto` picks pretty only for a terminal.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { wantsPrettyLogs } from '../../src/cli/logger.js';
import { ROOT } from '../hardening/helpers.js';

/** What a child process's logger writes to stderr for one info line, with LOG_FORMAT=format. */
function logLine(format: string): string {
  const script = `import('./src/cli/logger.ts').then((m) => m.createLogger({ logLevel: 'info', logFormat: ${JSON.stringify(format)} }).info({ port: 3000 }, 'listening'))`;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(run.status, run.stderr).toBe(0);
  expect(run.stdout).toBe('');
  return run.stderr;
}

describe('logs', () => {
  it('are readable lines with LOG_FORMAT=pretty', () => {
    expect(logLine('pretty')).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: listening \{"port":3000\}\n$/);
  });

  it('are one JSON object a line with LOG_FORMAT=json, and with auto when stderr is not a terminal', () => {
    for (const format of ['json', 'auto']) {
      const lines = logLine(format).trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'listening', port: 3000, time: expect.any(Number) });
    }
  });

  it('choose pretty for auto only on a terminal, and json whatever the output', () => {
    expect(wantsPrettyLogs('auto', true)).toBe(true);
    expect(wantsPrettyLogs('auto', false)).toBe(false);
    expect(wantsPrettyLogs('json', true)).toBe(false);
    expect(wantsPrettyLogs('pretty', false)).toBe(true);
  });
});
