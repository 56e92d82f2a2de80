/**
 * What a serving process holds: packages that only some requests need are not loaded at start or
 * by questions and listings (LangChain: the LLM path and asRetriever; docx and write-excel-file:
 * the exports), each comes with the first request that needs it. A real server process on the
 * test index, with a module hook (fixtures/report-packages.mjs) that reports every package its
 * serving thread resolves.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIndexDir } from '../services.js';
import { call, eventually, postJson, ROOT, SHIPPED, startServer, stop, type Child } from './helpers.js';

const HOOK = path.join(ROOT, 'test', 'hardening', 'fixtures', 'report-packages.mjs');
/** Loaded by some requests only. */
const ON_DEMAND = ['@langchain/core', '@langchain/openai', 'langsmith', 'docx', 'write-excel-file'];

let server: (Child & { base: string }) | undefined;
const loaded = (): string[] => [...server!.output().matchAll(/^package (\S+)$/gm)].map((m) => m[1]!);

beforeAll(async () => {
  server = await startServer({ INDEX_DIR: testIndexDir(), CORPUS_DIR: SHIPPED, NODE_OPTIONS: `--import ${HOOK}`, EMBED_WORKERS: '1' });
  await eventually(async () => (await call(server!.base, '/api/health/ready')).status === 200, 120_000);
}, 150_000);

afterAll(async () => {
  await stop(server);
});

describe('the serving thread', () => {
  it('loads none of the on-demand packages to start, answer, search and list', async () => {
    expect((await call(server!.base, '/api/ask', postJson({ question: '临湖镇2023年计划新增多少个智改数转项目?' }))).status).toBe(200);
    expect((await call(server!.base, `/api/search?q=${encodeURIComponent('"乡村振兴"')}`)).status).toBe(200);
    expect((await call(server!.base, '/api/commitments?limit=5')).status).toBe(200);
    // The hook does report what is loaded: express and pg are.
    expect(loaded()).toEqual(expect.arrayContaining(['express', 'pg', 'hnswlib-node']));
    expect(loaded().filter((name) => ON_DEMAND.includes(name))).toEqual([]);
  });

  it('loads docx with the first Word export and write-excel-file with the first spreadsheet', async () => {
    const search = await call(server!.base, `/api/search?q=${encodeURIComponent('乡村振兴')}`);
    const chunkId = search.body.results[0].chunkId as string;
    expect((await call(server!.base, '/api/drafts/export', postJson({ format: 'docx', items: [{ chunkId }] }))).status).toBe(200);
    expect(loaded()).toContain('docx');
    expect(loaded()).not.toContain('write-excel-file');
    expect((await call(server!.base, '/api/indicators?format=xlsx')).status).toBe(200);
    expect(loaded()).toContain('write-excel-file');
    expect(loaded()).not.toContain('@langchain/core');
  });
});
