/**
 * A stand-in for an LLM provider: a real HTTP server on 127.0.0.1 (port 0) that speaks the OpenAI
 * chat-completions protocol, plain and streaming (SSE), and plays scripted replies: text, a
 * provider error, or silence (a time-out), chosen per request by the test. It records every
 * request so a test can read the prompt the service sent.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: {
    model?: string;
    stream?: boolean;
    messages: Array<{ role: string; content: string }>;
    [key: string]: unknown;
  };
}

/** What the server does with one request. */
export type ScriptedReply =
  /** Answers with this text (streamed in small pieces when the request streams). */
  | { content: string }
  /** Streams `content` (or nothing) and then goes silent, never finishing the response. */
  | { stallAfter: string }
  /** Never answers: the client's time-out has to end it. */
  | { timeout: true }
  /** Answers with an HTTP error, as a provider does when overloaded or misconfigured. */
  | { status: number; message?: string };

/** Picks the reply for a request; `turn` counts the requests this script has seen, from 0. */
export type Script = (request: RecordedRequest, turn: number) => ScriptedReply;

export interface ScriptedLlmServer {
  /** Base URL to configure as LLM_BASE_URL (ends in /v1). */
  baseUrl: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Replaces the script (and restarts its turn count and the request log). */
  play(script: Script): void;
  close(): Promise<void>;
}

/** A script that answers the given replies in order, repeating the last one. */
export function inOrder(...replies: ScriptedReply[]): Script {
  return (_request, turn) => replies[Math.min(turn, replies.length - 1)]!;
}

/** A passage as the service's prompt shows it to the model. */
export interface PromptPassageSeen {
  n: number;
  town: string;
  text: string;
}

/** Reads the numbered passages out of the service's prompt (the last user message holding them). */
export function passagesIn(request: RecordedRequest): PromptPassageSeen[] {
  const prompt = request.body.messages.find((m) => m.role === 'user' && m.content.includes('<passages>'))?.content ?? '';
  return [...prompt.matchAll(/<passage n="(\d+)" town="([^"]*)"[^>]*>\n([\s\S]*?)\n<\/passage>/g)].map((m) => ({ n: Number(m[1]), town: m[2]!, text: m[3]! }));
}

/** The number of the first passage whose text holds `needle`; throws when none does (the test is then wrong). */
export function passageWith(request: RecordedRequest, needle: string): number {
  const hit = passagesIn(request).find((p) => p.text.includes(needle));
  if (!hit) throw new Error(`scripted LLM: no passage in the prompt holds "${needle}"`);
  return hit.n;
}

/** Whether a request is the follow-up rewrite (not an answer). */
export function isRewrite(request: RecordedRequest): boolean {
  return request.body.messages.some((m) => m.role === 'system' && m.content.includes('改写'));
}

function pieces(text: string): string[] {
  // A few characters at a time, like tokens of a Chinese model.
  return text.match(/[\s\S]{1,3}/g) ?? [];
}

export async function startScriptedLlm(initial: Script = inOrder({ content: '' })): Promise<ScriptedLlmServer> {
  let script = initial;
  let turn = 0;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0]!;
      if (req.method === 'GET' && path.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model', created: 0, owned_by: 'test' }] }));
        return;
      }
      if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
        return;
      }
      const body = JSON.parse(raw) as RecordedRequest['body'];
      // Content may arrive as parts; tests read it as text.
      body.messages = body.messages.map((m) => ({
        role: m.role,
        content: typeof m.content === 'string' ? m.content : (m.content as Array<{ text?: string }>).map((p) => p.text ?? '').join(''),
      }));
      const request: RecordedRequest = { path, headers: req.headers, body };
      requests.push(request);
      const reply = script(request, turn++);
      respond(request, reply, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const respond = (request: RecordedRequest, reply: ScriptedReply, res: ServerResponse): void => {
    if ('timeout' in reply) {
      hanging.add(res);
      return;
    }
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: reply.message ?? 'scripted failure', type: 'server_error', code: null } }));
      return;
    }
    const id = `chatcmpl-scripted-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    const model = request.body.model ?? 'scripted';
    if (!request.body.stream) {
      const content = 'content' in reply ? reply.content : reply.stallAfter;
      if ('stallAfter' in reply) {
        hanging.add(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] })}\n\n`);
    chunk({ role: 'assistant', content: '' });
    const text = 'content' in reply ? reply.content : reply.stallAfter;
    for (const piece of pieces(text)) chunk({ content: piece });
    if ('stallAfter' in reply) {
      hanging.add(res);
      return;
    }
    chunk({}, 'stop');
    res.write('data: [DONE]\n\n');
    res.end();
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    play(next) {
      script = next;
      turn = 0;
      requests.length = 0;
    },
    close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
