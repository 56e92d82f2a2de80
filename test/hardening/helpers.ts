/**
 * What the hardening suites share: real servers on 127.0.0.1 (in-process or as child processes
 * running the real entry points), temporary corpora copied from the shipped reports, and an
 * HTTP client that keeps status, headers, raw body and parsed JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';

export const ROOT = path.resolve('.');
export const SHIPPED = path.join(ROOT, 'corpus');
/** The smallest shipped report (16 passages): cheap to embed in child processes. */
export const SMALL_REPORT = 'meili-2023-reform-plan.txt';
export const OTHER_REPORT = 'tianshenggang-2022-summary-2023-plan.txt';
/** A short report no shipped one holds (临湖镇's 2024 plan), for uploads and reindexes. */
export const NEW_REPORT =
  '临湖镇2024年民生实事项目计划\n一、2024年民生实事\n' +
  '全镇计划新建社区食堂4家,为辖区80岁以上老人提供助餐服务。\n' +
  '年内将完成农村公路提档升级12公里,新增公交候车亭15个。\n';
export { LEAK, call, close, expectError, listen, postJson, type Reply } from '../http.js';

export function scratch(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copies shipped reports (and their sidecars) into `corpusDir`, writable. */
export function copyReports(corpusDir: string, names: string[]): void {
  fs.mkdirSync(corpusDir, { recursive: true });
  for (const name of names) {
    for (const file of [name, name.replace(/\.[^.]+$/, '.meta.json')]) {
      const from = path.join(SHIPPED, file);
      if (!fs.existsSync(from)) continue;
      fs.writeFileSync(path.join(corpusDir, file), fs.readFileSync(from));
    }
  }
}

/** A child process running one of the project's entry points, its stderr collected. */
export interface Child {
  process: ChildProcess;
  /** Everything written to stderr (and stdout) so far. */
  output(): string;
  /** Resolves when the output matches, rejects when the process exits first or time runs out. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Environment for child processes: the caller's, minus settings that would change behaviour. */
export function childEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(LLM_|OPENAI_|ADMIN_TOKEN|METRICS_TOKEN|INGEST_PAUSE_AT|NODE_OPTIONS|VITEST)/.test(key)) delete env[key];
  }
  return { ...env, LOG_LEVEL: 'info', RATE_LIMIT_PER_MINUTE: '0', ...overrides };
}

/** Runs an entry point: a source file (.ts) through tsx, a compiled one (dist/…/.js) with plain node. */
export function runEntry(entry: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, path.join(ROOT, entry), ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    process: child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = out.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          // Output may still be buffered: look once more before giving up.
          setTimeout(() => {
            check();
            if (listeners.has(check)) {
              done();
              reject(new Error(`process exited before ${pattern}; output:\n${out.slice(-3000)}`));
            }
          }, 50);
        };
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/**
 * Starts the server on a free port, from its sources (default) or from the build `npm start`
 * runs (`dist/cli/serve.js`); resolves once it listens.
 */
export async function startServer(env: Record<string, string>, entry = 'src/cli/serve.ts'): Promise<Child & { base: string }> {
  const child = runEntry(entry, [], childEnv({ PORT: '0', HOST: '127.0.0.1', ...env }));
  try {
    // The listening line is logged at info level: LOG_LEVEL must not be above info.
    const match = await child.waitFor(/"port":(\d+)[^\n]*listening on/);
    return Object.assign(child, { base: `http://127.0.0.1:${match[1]}` });
  } catch (err) {
    // Never leave a server behind when its start fails.
    await stop(child);
    throw err;
  }
}

/** Kills a child (if still running) and waits for it to exit. */
export async function stop(child: Child | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child) return;
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill(signal);
  await child.exited;
}

/** Polls until `check` resolves truthy. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A server's exit after an orderly SIGTERM shutdown: code 0, no signal. */
export function expectOrderlyExit(exited: { code: number | null; signal: NodeJS.Signals | null }): void {
  expect(exited).toEqual({ code: 0, signal: null });
}
