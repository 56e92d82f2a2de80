/**
 * An embedded PostgreSQL for development and tests: PGlite (PostgreSQL compiled to WASM) with its
 * pgvector extension, served over the PostgreSQL wire protocol by pglite-socket, so that the same
 * `pg` client code as in production talks to it. Not for production: one process, one backend
 * (connections are multiplexed onto it, a transaction holds off the other connections), in memory
 * unless a data folder is given.
 */
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1 (never expose this server). */
  host?: string;
  /** Folder to keep the database in; default: in memory (gone when the process ends). */
  dataDir?: string;
  /**
   * Client connections accepted at once. pglite-socket's own default is 1 (a second `pg` client
   * would be refused); the store's pool and a replica or two need more. Default 32.
   */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** Connection string for `pg` (user postgres, database postgres). */
  url: string;
  port: number;
  /** Stops the server and closes the database. */
  stop(): Promise<void>;
}

/** Starts PGlite with pgvector and serves it on host:port. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const db = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { vector } });
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections: options.maxConnections ?? 32 });
  await server.start();
  // After start() the server reports the port it got (options.port 0 means "any").
  const port = Number(server.getServerConn().split(':').at(-1));
  return {
    url: `postgres://postgres:postgres@${host}:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
