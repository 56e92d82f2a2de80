/**
 * POST /api/ask/stream: the answer as server-sent events, for a progressive display. Takes the
 * same body as POST /api/ask. Events: `meta` {found, mode, citations, rewrittenQuestion?}, `delta` {text},
 * `replace` {text}, `done` (the full /api/ask response), or `error` {error: {code, message}}
 * when something fails after the stream has started. Validation errors come before the stream,
 * as ordinary JSON errors.
 */
import type { Response } from 'express';
import type { AskInput, AskStreamEvent, QaService } from '../qa/service.js';
import { describeError } from './errors.js';

export interface StreamContext {
  service: QaService;
  input: AskInput;
  /** Shapes a citation list or a response for clients (drops internals). */
  shape: {
    citations: (c: Extract<AskStreamEvent, { type: 'meta' }>['citations']) => unknown;
    response: (r: Extract<AskStreamEvent, { type: 'done' }>['response']) => unknown;
  };
}

function send(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * Starts a server-sent-events response. Returns whether the client has gone away: the
 * response's close (not the request's, which fires once the body is read) before the end.
 */
export function openEventStream(res: Response): () => boolean {
  let closed = false;
  res.on('close', () => (closed = !res.writableEnded));
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  // Proxies such as nginx would otherwise hold the events back until the end.
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  return () => closed;
}

/**
 * Waits for an event stream's first event before anything is sent: what the service refuses
 * before it starts (an unknown town filter, no index) then throws here and goes out as the same
 * JSON error /api/ask gives, instead of a 200 followed by an `error` event.
 */
export async function primeEvents<T>(events: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      try {
        yield first.value;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      } finally {
        // A client that went away stops the service's generator too (its LLM call, above all).
        await iterator.return?.();
      }
    },
  };
}

/** Writes the service's answer events to the response as SSE; ends the response. */
export async function streamAnswer(res: Response, ctx: StreamContext): Promise<void> {
  const events = await primeEvents(ctx.service.askStream(ctx.input));
  const isClosed = openEventStream(res);
  try {
    for await (const event of events) {
      if (isClosed()) break;
      if (event.type === 'meta') {
        const rewritten = event.rewrittenQuestion !== undefined ? { rewrittenQuestion: event.rewrittenQuestion } : {};
        send(res, 'meta', { found: event.found, status: event.status, ...(event.reason ? { reason: event.reason } : {}), mode: event.mode, citations: ctx.shape.citations(event.citations), ...rewritten });
      }
      else if (event.type === 'done') send(res, 'done', ctx.shape.response(event.response));
      else send(res, event.type, { text: event.text });
    }
  } catch (err) {
    const { code, message } = describeError(err);
    if (!isClosed()) send(res, 'error', { error: { code, message } });
  }
  res.end();
}
