-- Vectors stored in their rows. pgvector's type defaults to external storage, and a vector(512) is
-- 2,056 bytes, just over the 2 kB toast threshold: every vector was a separate TOAST fetch (two
-- TOAST rows each), and a question's sentence scoring (~400 distances) spent most of its time on
-- them. PLAIN keeps the vector in the row; the toast_tuple_target of a whole page keeps the other
-- columns there too (with the vector unmovable, the toaster would otherwise move the row's small
-- text columns out, a town filter then reading one TOAST row per candidate). A sentence row is
-- ~2.1 kB, a chunk row ~3.3 kB (its JSON ~1.1 kB): both fit a page. At 500 reports on PGlite the
-- executor's time for one scoring query of 60 chunks fell from ~10 ms to ~2 ms (buffers 2,085 ->
-- 492). Rows already written keep their layout: a generation written after this migration (the
-- next ingest or import) is stored inline.
ALTER TABLE chunks SET (toast_tuple_target = 8160);
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN;
ALTER TABLE sentences SET (toast_tuple_target = 8160);
ALTER TABLE sentences ALTER COLUMN embedding SET STORAGE PLAIN;
