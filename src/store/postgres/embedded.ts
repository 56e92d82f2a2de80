/**
 * An embedded PostgreSQL for development and tests: PGlite (PostgreSQL compiled to WASM) with its
 * pgvector extension, served over the PostgreSQL wire protocol by pglite-socket, so that the same
 * `pg` client code as in production talks to it. Not for production: one process, one backend
 * that every connection shares (a transaction holds off the other connections), in memory unless
 * a data folder is given.
 *
 * Several clients at once: pglite-socket's own server (0.2.x) multiplexes connections message by
 * message, so two clients' extended-protocol queries (Parse, Bind, Execute, Sync) interleave on
 * the one backend and one client's Bind meets the other's statement ("unnamed prepared statement
 * does not exist"). Here its per-connection handler is kept (startup, SSL refusal, framing) and
 * the scheduling is replaced: a connection's messages run together up to their Sync, and an open
 * transaction keeps the backend for its connection until it ends.
 */
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (never expose this server). */
  host?: string;
  /** Folder to keep the database in; default: in memory (gone when the process ends). */
  dataDir?: string;
  /** Client connections accepted at once. Default 32. */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** Connection string for `pg` (user postgres, database postgres). */
  url: string;
  port: number;
  /** Stops the server and closes the database. */
  stop(): Promise<void>;
}

interface Pending {
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Message types after which a connection waits for the server's answer: Sync, simple Query,
 * Flush, Terminate, password, COPY data/done/fail. A startup message (no type byte) also stands alone.
 */
const ENDS_GROUP = new Set(['S', 'Q', 'H', 'X', 'p', 'd', 'c', 'f'].map((c) => c.charCodeAt(0)));

/**
 * The scheduler handed to pglite-socket's handlers in place of its per-message queue (same
 * methods, which is all the handler calls).
 */
class GroupQueue {
  private readonly buffers = new Map<number, Pending[]>();
  private readonly ready: Array<{ handlerId: number; items: Pending[] }> = [];
  /** Connection whose transaction is open: only its groups run until it ends. */
  private owner: number | null = null;
  private running = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const items = this.buffers.get(handlerId) ?? [];
      items.push({ message, onData, resolve, reject });
      const type = message[0]!;
      if (type === 0 || ENDS_GROUP.has(type)) {
        this.buffers.delete(handlerId);
        this.ready.push({ handlerId, items });
        void this.run();
      } else {
        this.buffers.set(handlerId, items);
        // The handler waits for this before reading the next message; the answer comes with the group.
        resolve(0);
      }
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const at = this.owner === null ? 0 : this.ready.findIndex((g) => g.handlerId === this.owner);
        if (at < 0 || at >= this.ready.length) break;
        const [group] = this.ready.splice(at, 1);
        let bytes = 0;
        try {
          for (const item of group!.items) {
            await this.db.runExclusive(() =>
              this.db.execProtocolRawStream(item.message, {
                onRawData: (data) => {
                  bytes += data.length;
                  item.onData(data);
                },
              }),
            );
          }
          this.owner = this.db.isInTransaction() ? group!.handlerId : null;
          group!.items.at(-1)!.resolve(bytes);
        } catch (error) {
          this.owner = this.db.isInTransaction() ? group!.handlerId : null;
          group!.items.at(-1)!.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }

  getQueueLength(): number {
    return this.ready.length;
  }

  clearQueueForHandler(handlerId: number): void {
    this.buffers.delete(handlerId);
    for (let i = this.ready.length - 1; i >= 0; i--) {
      if (this.ready[i]!.handlerId !== handlerId) continue;
      for (const item of this.ready[i]!.items) item.reject(new Error('connection closed'));
      this.ready.splice(i, 1);
    }
  }

  /** A connection that closed inside its transaction: roll it back and let the others run. */
  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner !== handlerId) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    void this.run();
  }
}

/** Starts PGlite with pgvector and serves it on host:port. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const db = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { vector } });
  const queue = new GroupQueue(db);
  const handlers = new Set<PGLiteSocketHandler>();
  const server = net.createServer((socket) => {
    // The handler's declared type is pglite-socket's own queue class; it calls only these methods.
    const handler = new PGLiteSocketHandler({ queryQueue: queue as unknown as PGLiteSocketHandlerOptions['queryQueue'], closeOnDetach: true });
    handlers.add(handler);
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.attach(socket).catch(() => socket.destroy());
  });
  server.maxConnections = options.maxConnections ?? 32;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `postgres://postgres:postgres@${host}:${port}/postgres`,
    port,
    async stop() {
      for (const handler of handlers) await handler.detach(true).catch(() => {});
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
