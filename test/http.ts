/**
 * What the HTTP suites share: a real server on 127.0.0.1, a client that keeps status, headers,
 * raw body and parsed JSON, the one error-shape assertion, and a server-sent-events parser.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { expect } from 'vitest';

/** What must never appear in an error body: a stack frame, a dependency path, a server path. */
export const LEAK = /at .*\(|node_modules|\/work\/|\/tmp\//;

export async function listen(app: Express): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface Reply {
  status: number;
  headers: Headers;
  raw: string;
  body: any;
}

export async function call(base: string, route: string, init?: RequestInit): Promise<Reply> {
  const res = await fetch(base + route, init);
  const raw = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, raw, body };
}

export const postJson = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

/** Asserts an error reply: status, code, the one error shape, JSON, and nothing leaked. */
export function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(reply.body)).toEqual(['error']);
  expect(Object.keys(reply.body.error).sort()).toEqual(['code', 'message']);
  expect(reply.body.error.message).toEqual(expect.any(String));
  expect(reply.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(reply.raw).not.toMatch(LEAK);
}

/** Parses an SSE body into events (`event:` name, JSON `data:`; OpenAI's `[DONE]` kept as is). */
export function parseSse(body: string): Array<{ event: string; data: any }> {
  return body
    .split('\n\n')
    .filter((block) => block.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const raw = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return { event, data: raw === '[DONE]' ? '[DONE]' : JSON.parse(raw) };
    });
}
