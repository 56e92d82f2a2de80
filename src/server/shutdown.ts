/**
 * Graceful shutdown of the HTTP server without connection resets. Node's server.close() also
 * closes every idle kept-alive connection at once, and a client that was just sending its next
 * request on one gets ECONNRESET. Here the listening socket closes (new connections are refused),
 * responses in flight finish and close their connection, and a request that arrives on a
 * kept-alive connection is answered (503 E_SHUTTING_DOWN by refuseWhileStopping, with
 * Connection: close) before that connection closes. Connections that stay idle are closed after
 * the keep-alive timeout, as they would be anyway.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Socket } from 'node:net';

export interface DrainOptions {
  /** Longest the drain may take before every connection is cut, ms. Default 10,000. */
  graceMs?: number;
  /**
   * How long an idle kept-alive connection is left open for the request a client may be sending
   * on it, ms. Default: the server's keepAliveTimeout (Node: 5 s), which clients already respect.
   */
  idleMs?: number;
}

export interface ServerDrain {
  /** Resolves `drained` when every connection has closed, `cut` when the grace period ran out. */
  drain(options?: DrainOptions): Promise<'drained' | 'cut'>;
}

/** Tracks the server's connections from now on; call it before the server listens. */
export function trackConnections(server: Server): ServerDrain {
  const active = new Map<Socket, number>();
  const open = new Set<ServerResponse>();
  let draining = false;

  server.on('connection', (socket: Socket) => {
    active.set(socket, 0);
    socket.once('close', () => active.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    open.add(res);
    // Once draining, every response (also the ones in flight) is the connection's last.
    if (draining && !res.headersSent) res.setHeader('Connection', 'close');
    res.once('close', () => {
      open.delete(res);
      if (active.has(socket)) active.set(socket, Math.max(0, (active.get(socket) ?? 1) - 1));
    });
  });

  return {
    drain(options = {}) {
      draining = true;
      for (const res of open) if (!res.headersSent) res.setHeader('Connection', 'close');
      const graceMs = options.graceMs ?? 10_000;
      const idleMs = options.idleMs ?? server.keepAliveTimeout ?? 5_000;
      return new Promise((resolve) => {
        let settled = false;
        const finish = (how: 'drained' | 'cut') => {
          if (settled) return;
          settled = true;
          clearTimeout(idleTimer);
          clearTimeout(graceTimer);
          resolve(how);
        };
        // net.Server's close, not http.Server's: stop listening, leave idle connections alone.
        net.Server.prototype.close.call(server, () => finish('drained'));
        const idleTimer = setTimeout(() => {
          for (const [socket, requests] of active) if (requests === 0) socket.end();
        }, idleMs);
        idleTimer.unref();
        const graceTimer = setTimeout(() => {
          for (const socket of active.keys()) socket.destroy();
          finish('cut');
        }, graceMs);
        graceTimer.unref();
      });
    },
  };
}
