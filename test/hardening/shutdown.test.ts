/**
 * SIGTERM with kept-alive clients, on the real server process: eight clients each hold one
 * keep-alive connection and ask (cache off) or probe in a loop. After the signal, readiness says
 * stopping, every response is a whole 200 or a 503 E_SHUTTING_DOWN with Connection: close, no
 * client ever sees a reset (ECONNRESET, socket hang up), new connections are refused, and the
 * process exits 0.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testIndexDir } from '../services.js';
import { call, eventually, expectOrderlyExit, startServer, stop, type Child } from './helpers.js';

interface Outcome {
  status?: number;
  code?: string;
  connection?: string;
  error?: string;
  afterSignal: boolean;
}

let server: Child & { base: string };

beforeAll(async () => {
  server = await startServer({ INDEX_DIR: testIndexDir(), EMBED_WORKERS: '1', ANSWER_CACHE_SIZE: '0' });
  await eventually(async () => (await call(server.base, '/api/health/ready')).status === 200, 120_000);
}, 180_000);

afterAll(() => stop(server));

function send(agent: http.Agent, base: URL, path: string, body: string | undefined): Promise<Omit<Outcome, 'afterSignal'>> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: base.hostname, port: base.port, path, method: body ? 'POST' : 'GET', agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = 'E_NOT_JSON';
          }
          resolve({ status: res.statusCode ?? 0, ...(code ? { code } : {}), connection: String(res.headers.connection ?? '') });
        });
        res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end(body);
  });
}

describe('SIGTERM with kept-alive clients', () => {
  it('answers or refuses every request with 503 E_SHUTTING_DOWN, never resets a connection, and exits 0', async () => {
    const base = new URL(server.base);
    let signalled = false;
    const outcomes: Outcome[] = [];
    const questions = ['梅李镇有多少个三级网格?', '牛塘镇下半年要完成多少套安置房的初始登记?', '淀山湖镇2020年计划地区生产总值达到多少?', '天生港镇2023年的工作目标是什么?'];
    const clients = Array.from({ length: 8 }, async (_, i) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let n = 0; ; n++) {
          const probe = i % 4 === 3;
          const outcome = await send(agent, base, probe ? '/api/health/live' : '/api/ask', probe ? undefined : JSON.stringify({ question: `${questions[(i + n) % questions.length]}` }));
          outcomes.push({ ...outcome, afterSignal: signalled });
          // The listener is closed: this client is done.
          if (outcome.error === 'ECONNREFUSED') return;
          if (n > 2000) return;
        }
      } finally {
        agent.destroy();
      }
    });
    // One more client holds an idle kept-alive connection across the signal.
    const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const idleBefore = await send(idleAgent, base, '/api/health/live', undefined);
    await eventually(async () => outcomes.filter((o) => o.status === 200).length >= 24, 60_000, 20);
    server.process.kill('SIGTERM');
    signalled = true;
    await server.waitFor(/shutting down/);
    // Its next request, on the same connection, is answered: 503 E_SHUTTING_DOWN, Connection: close.
    const idleAfter = await send(idleAgent, base, '/api/ask', JSON.stringify({ question: questions[0] }));
    idleAgent.destroy();
    await Promise.all(clients);
    const exited = await server.exited;

    const resets = outcomes.filter((o) => o.error && o.error !== 'ECONNREFUSED');
    expect(resets).toEqual([]);
    expectOrderlyExit(exited);
    expect(idleBefore.status).toBe(200);
    expect(idleAfter).toMatchObject({ status: 503, code: 'E_SHUTTING_DOWN', connection: 'close' });
    const after = outcomes.filter((o) => o.afterSignal && !o.error);
    // Requests in flight at the signal finish (200, their connection then closes); one that arrives
    // on a kept-alive connection afterwards gets 503 E_SHUTTING_DOWN and close.
    for (const o of after.filter((x) => x.status === 503)) expect(o).toMatchObject({ code: 'E_SHUTTING_DOWN', connection: 'close' });
    for (const o of after) expect([200, 503]).toContain(o.status);
    // Every client ended at a refused connection, not at an error.
    expect(outcomes.filter((o) => o.error === 'ECONNREFUSED')).toHaveLength(8);
    expect(server.output()).toMatch(/all connections closed: exiting/);
  }, 120_000);
});
