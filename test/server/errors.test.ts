import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { describeError, errorHandler, redactPaths } from '../../src/server/errors.js';

const LEAK = /at .*\(|node_modules|\/work\//;

describe('describeError', () => {
  it('maps AppError codes without a status to the status of their kind', () => {
    expect(describeError(new AppError('E_QUESTION_MISSING', 'question: required')).status).toBe(400);
    expect(describeError(new AppError('E_DOCUMENT_NOT_FOUND', 'x')).status).toBe(404);
    expect(describeError(new AppError('E_INDEX_MISMATCH', 'run npm run ingest')).status).toBe(503);
    expect(describeError(new AppError('E_PARSE', 'x')).status).toBe(500);
  });

  it("maps an error's kind to its status, over its code's", () => {
    expect(describeError(new AppError('E_UPLOAD_INVALID', 'x')).status).toBe(400);
    expect(describeError(new AppError('E_UPLOAD_INVALID', 'x', { kind: 'unsupported-type' })).status).toBe(415);
    expect(describeError(new AppError('E_UPLOAD_INVALID', 'x', { kind: 'too-large' })).status).toBe(413);
    expect(describeError(new AppError('E_PARSE', 'upload: x', { kind: 'unreadable' }))).toMatchObject({ status: 422, code: 'E_PARSE', message: 'upload: x' });
    expect(describeError(new AppError('E_NOT_FOUND', 'x', { kind: 'unknown-reference' })).status).toBe(400);
  });

  it('keeps the status an AppError names', () => {
    expect(describeError(new AppError('E_BAD_REQUEST', 'x', { status: 415 })).status).toBe(415);
  });

  it('hides the message of server faults but keeps the what-to-run message of index errors', () => {
    expect(describeError(new AppError('E_INTERNAL', 'embedder: expected 3x512 output')).message).not.toMatch(/embedder/);
    expect(describeError(new AppError('E_INDEX_MISSING', 'index: no index in index/; run `npm run ingest`')).message).toMatch(/npm run ingest/);
  });

  it('answers anything that is not an AppError with 500 E_INTERNAL and a generic message', () => {
    const described = describeError(new TypeError('Cannot read properties of undefined (at /work/main/src/x.ts:1:1)'));
    expect(described).toMatchObject({ status: 500, code: 'E_INTERNAL' });
    expect(described.message).not.toMatch(LEAK);
    expect(describeError('a string').code).toBe('E_INTERNAL');
    expect(describeError(null).code).toBe('E_INTERNAL');
  });
});

describe('redactPaths', () => {
  it('cuts absolute paths to their last segment', () => {
    expect(redactPaths('model failed to load from /work/main/models/Xenova/onnx/model.onnx: bad')).toBe('model failed to load from …/model.onnx: bad');
    expect(redactPaths('cannot read C:\\srv\\qa\\index\\CURRENT')).toBe('cannot read …\\CURRENT');
  });

  it('leaves URLs, relative names and commands alone', () => {
    const message = 'tried https://hf-mirror.example/Xenova/bge-small-zh-v1.5 and index/; run `npm run ingest -- --full`';
    expect(redactPaths(message)).toBe(message);
  });
});

describe('errorHandler', () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = express();
    app.use((_req, res, next) => {
      res.locals['requestId'] = 'req-1';
      next();
    });
    app.get('/boom', () => {
      throw new Error('secret detail at /work/main/src/x.ts');
    });
    app.get('/async-boom', async () => {
      await Promise.resolve();
      throw new RangeError('async secret');
    });
    app.use(errorHandler(logger));
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.each(['/boom', '/async-boom'])('answers a thrown Error (%s) with 500 E_INTERNAL and no detail', async (path) => {
    const res = await fetch(base + path);
    const raw = await res.text();
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(raw)).toEqual({ error: { code: 'E_INTERNAL', message: expect.any(String) } });
    expect(raw).not.toMatch(LEAK);
    expect(raw).not.toMatch(/secret/);
  });

  it('logs the full error with the request id', () => {
    const entry = lines.find((l) => l['msg'] === 'request failed' && l['path'] === '/boom');
    expect(entry).toMatchObject({ requestId: 'req-1', status: 500, code: 'E_INTERNAL' });
    expect(JSON.stringify(entry)).toMatch(/secret detail/);
  });
});
