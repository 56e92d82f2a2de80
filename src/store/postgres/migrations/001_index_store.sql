-- The index store's schema: generations with one published pointer, and per generation the
-- documents, chunks and sentences (with their vectors), the BM25 postings and derived records.
-- Every row carries its generation; a reader pins one generation, so a half-written one is
-- invisible, and deleting a generation (ON DELETE CASCADE) removes all of its rows.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE generations (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE,
  -- writing: a writer is filling it; ready: complete (published now or before, or never).
  state text NOT NULL CHECK (state IN ('writing', 'ready')),
  -- GenerationMeta plus formatVersion and createdAt.
  meta json NOT NULL,
  -- Expected row counts {documents, chunks, sentences}, set when the writer finishes.
  counts json,
  lexicon json NOT NULL DEFAULT '[]',
  -- Mean token count of a chunk (BM25 length normalisation), as the file store computes it.
  average_length double precision,
  -- Who writes it, and when it last said so: a writer that died is recognised and cleaned up.
  writer_pid integer,
  writer_host text,
  heartbeat timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);

-- Exactly one row: the generation readers see. Switching it is the publish.
CREATE TABLE published_generation (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  generation_id bigint NOT NULL REFERENCES generations (id)
);

CREATE TABLE documents (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  ord integer NOT NULL,
  doc_id text NOT NULL,
  meta json NOT NULL,
  -- The whole ParsedDocument (json keeps its text as written: key order, numbers).
  document json NOT NULL,
  PRIMARY KEY (generation_id, ord),
  UNIQUE (generation_id, doc_id)
);

CREATE TABLE chunks (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  -- Position in ingest order: ties in a ranking are broken by it, as the file store's row.
  ord integer NOT NULL,
  chunk_id text NOT NULL,
  doc_id text NOT NULL,
  town text NOT NULL,
  role text NOT NULL,
  years integer[] NOT NULL,
  -- Keyword tokens of the chunk (BM25 length).
  token_count integer NOT NULL,
  chunk json NOT NULL,
  embedding vector(512) NOT NULL,
  PRIMARY KEY (generation_id, ord),
  UNIQUE (generation_id, chunk_id)
);
CREATE INDEX chunks_by_town ON chunks (generation_id, town);
CREATE INDEX chunks_embedding ON chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200);

CREATE TABLE sentences (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  chunk_ord integer NOT NULL,
  k integer NOT NULL,
  -- The chunk's filter fields, repeated so that a filtered sentence search needs no join.
  town text NOT NULL,
  role text NOT NULL,
  years integer[] NOT NULL,
  embedding vector(512) NOT NULL,
  PRIMARY KEY (generation_id, chunk_ord, k)
);
CREATE INDEX sentences_by_town ON sentences (generation_id, town);
CREATE INDEX sentences_embedding ON sentences USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200);

-- Document frequency of each term in the generation (BM25 idf is over the whole generation).
CREATE TABLE terms (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  term text NOT NULL,
  df integer NOT NULL,
  PRIMARY KEY (generation_id, term)
);

CREATE TABLE postings (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  term text NOT NULL,
  chunk_ord integer NOT NULL,
  tf integer NOT NULL,
  PRIMARY KEY (generation_id, term, chunk_ord)
);

-- Anything derived at ingest (commitments, suggestions, indicators, sentence annotations, ...).
CREATE TABLE derived_records (
  generation_id bigint NOT NULL REFERENCES generations (id) ON DELETE CASCADE,
  kind text NOT NULL,
  key text NOT NULL,
  -- Order of first writing, which reads return.
  seq bigint NOT NULL,
  value json NOT NULL,
  PRIMARY KEY (generation_id, kind, key)
);
