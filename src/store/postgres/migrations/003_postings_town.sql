-- The town of each posting's chunk, repeated (as sentences repeat their chunk's filter fields): a
-- keyword search or a per-town count within the asked towns then reads those towns' postings of a
-- term, not every posting of it (a common word is in thousands of chunks of a large corpus) each
-- joined to its chunk.
ALTER TABLE postings ADD COLUMN town text;
UPDATE postings p SET town = c.town FROM chunks c WHERE c.generation_id = p.generation_id AND c.ord = p.chunk_ord;
ALTER TABLE postings ALTER COLUMN town SET NOT NULL;
CREATE INDEX postings_by_town ON postings (generation_id, town, term);
