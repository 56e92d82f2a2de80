/**
 * The real QA service (real model, real test index) with its LLM pointed at the scripted
 * stand-in, served by the real app on 127.0.0.1: the one part stood in for is the LLM.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLlmClient } from '../../src/answer/llm.js';
import { createQaService, DEFAULT_THRESHOLD, type QaService } from '../../src/qa/service.js';
import { snapshotOfLoadedIndex } from '../../src/store/file-store.js';
import type { Config } from '../../src/config.js';
import { loadIndex } from '../../src/index/store.js';
import { createApp, type AppDeps } from '../../src/server/app.js';
import { openTestService, testIndexDir } from '../services.js';

export interface LlmTestService {
  config: Config;
  service: QaService;
}

/** The QA service over the test index with an LLM at `baseUrl` (time-out short, for the time-out cases). */
export async function openLlmService(baseUrl: string, timeoutMs = 2000): Promise<LlmTestService> {
  const { config, embedder } = await openTestService();
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  const llm = createLlmClient({ baseUrl, apiKey: 'test-key', model: 'scripted', timeoutMs });
  return { config, service: await createQaService(snapshotOfLoadedIndex(index), embedder, { defaultTopK: config.defaultTopK, threshold: DEFAULT_THRESHOLD, llm }) };
}

export interface Served {
  base: string;
  close(): Promise<void>;
}

/** Serves the app over `service` on 127.0.0.1 port 0. */
export async function serve(service: QaService, config: Config, extra: Partial<AppDeps> = {}): Promise<Served> {
  const app = createApp({ service, maxQuestionChars: config.maxQuestionChars, defaultTopK: config.defaultTopK, web: false, ...extra });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

export { parseSse } from '../http.js';

/** Names of the checks that failed in an attempt. */
export function failedChecks(attempt: { results: Array<{ name: string; passed: boolean }> }): string[] {
  return attempt.results.filter((r) => !r.passed).map((r) => r.name);
}
