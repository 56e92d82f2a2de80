/**
 * What ingest computes beside the chunks and vectors, so that loading an index only reads: each
 * deriver turns the finished build (documents, chunks, sentence vectors and annotations) into
 * records of its own kind, stored with the generation and served by IndexSnapshot.getDerived.
 * A deriver runs for every build, reused files too, so a change of its rules needs no re-embedding.
 */
import { deriveCommitments } from '../commitments/derive.js';
import { deriveRetrievalRecords } from '../retrieve/derive.js';
import type { DeriveInput, DerivedRecord, Deriver } from '../store/index-store.js';

/** Every deriver, in the order they run. */
const DERIVERS: Deriver[] = [deriveRetrievalRecords, deriveCommitments];

/** All derived records of a build; a (kind, key) produced twice is a bug and refused. */
export async function deriveRecords(input: DeriveInput): Promise<DerivedRecord[]> {
  const records: DerivedRecord[] = [];
  const seen = new Set<string>();
  for (const derive of DERIVERS) {
    for (const record of await derive(input)) {
      const id = JSON.stringify([record.kind, record.key]);
      if (seen.has(id)) throw new Error(`derive: record ${id} produced twice`);
      seen.add(id);
      records.push(record);
    }
  }
  return records;
}
