/**
 * The commitment-extraction block of `npm run eval`: scores the service's commitments against the
 * hand-labelled set (test/fixtures/commitments/labelled-commitments.json, the development set) and
 * the held-out set (heldout-commitments.json), and formats the figures.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { QaService } from '../answer/service.js';
import { formatExtractionFigures, scoreExtraction, type ExtractionFigures, type LabelledSet } from '../commitments/evaluate.js';
import type { ParsedDocument } from '../domain/types.js';

export const LABELLED_DIR = 'test/fixtures/commitments';

export interface CommitmentEvaluation {
  /** The labelled set the extractor was developed against (梅李镇, 临湖镇 2023). */
  labelled: ExtractionFigures;
  /** Labelled after development (牛塘镇 2022年下半年); measured blind once, then inspected (docs/benchmarks.md). */
  heldout?: ExtractionFigures;
  /** Milliseconds to build the commitment book (extraction, topics, follow-up). */
  buildMs: number;
}

function readSet(file: string): LabelledSet | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as LabelledSet) : undefined;
}

export async function evaluateCommitments(service: QaService, documents: readonly ParsedDocument[], dir = LABELLED_DIR): Promise<CommitmentEvaluation | undefined> {
  const labelled = readSet(path.join(dir, 'labelled-commitments.json'));
  if (!labelled) return undefined;
  const book = await service.commitments();
  const heldout = readSet(path.join(dir, 'heldout-commitments.json'));
  return {
    labelled: scoreExtraction(labelled, documents, book.commitments),
    ...(heldout ? { heldout: scoreExtraction(heldout, documents, book.commitments) } : {}),
    buildMs: book.timings.totalMs,
  };
}

/** Without the error lists, for --json. */
export function commitmentFigures(e: CommitmentEvaluation) {
  const strip = ({ errors: _errors, ...figures }: ExtractionFigures) => figures;
  return { labelled: strip(e.labelled), ...(e.heldout ? { heldout: strip(e.heldout) } : {}), buildMs: e.buildMs };
}

export function formatCommitmentEvaluation(e: CommitmentEvaluation): string {
  const pass = (x: number, bar: number) => (x >= bar ? 'ok' : 'BELOW');
  const l = e.labelled;
  const lines = [
    'Commitment extraction (labelled set: test/fixtures/commitments/labelled-commitments.json)',
    '',
    formatExtractionFigures(l),
    '',
    `bars: commitments P>=0.85 ${pass(l.commitments.precision, 0.85)}, R>=0.85 ${pass(l.commitments.recall, 0.85)}; ` +
      `targets P/R>=0.9 ${pass(Math.min(l.targets.precision, l.targets.recall), 0.9)}; topic>=0.8 ${pass(l.topic.accuracy, 0.8)}`,
  ];
  if (e.heldout) lines.push('', 'Second set (牛塘镇, labelled after development; heldout-commitments.json; its blind figures are in docs/benchmarks.md)', '', formatExtractionFigures(e.heldout));
  lines.push('', `commitment book built in ${e.buildMs} ms (load time, once per index)`);
  return lines.join('\n');
}
