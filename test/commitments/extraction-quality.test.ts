/**
 * Extraction quality on the hand-labelled set (test/fixtures/commitments/labelled-commitments.json:
 * the plan sections of 梅李镇 and 临湖镇 2023), with the real model and the real index: the bars of
 * the commitments issue. `npm run eval` prints the same figures.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { scoreExtraction, type ExtractionFigures, type LabelledSet } from '../../src/commitments/evaluate.js';
import { TOPICS } from '../../src/domain/commitment.js';
import { loadIndex } from '../../src/index/store.js';
import { openTestService, testIndexDir } from '../services.js';

const labelled = JSON.parse(fs.readFileSync('test/fixtures/commitments/labelled-commitments.json', 'utf8')) as LabelledSet;
let figures: ExtractionFigures;

beforeAll(async () => {
  const { service, embedder } = await openTestService();
  const index = loadIndex(testIndexDir(), { embeddingModel: embedder.id, dimension: embedder.dimension });
  figures = scoreExtraction(labelled, index.documents, (await service.commitments()).commitments);
});

describe('commitment extraction on the labelled set', () => {
  it('labels two plan sections of different styles with every commitment located in its report', () => {
    expect(labelled.documents.map((d) => d.docId)).toEqual(['meili-2023-reform-plan', 'linhu-2022-summary-2023-plan']);
    for (const d of labelled.documents) for (const c of d.commitments) expect(TOPICS).toContain(c.topic);
    expect(figures.commitments.gold).toBeGreaterThan(200);
  });

  it('finds commitments with precision and recall of at least 0.85', () => {
    expect(figures.commitments.precision).toBeGreaterThanOrEqual(0.85);
    expect(figures.commitments.recall).toBeGreaterThanOrEqual(0.85);
  });

  it('gets quantified targets (value and unit) right with precision and recall of at least 0.9', () => {
    expect(figures.targets.gold).toBeGreaterThan(30);
    expect(figures.targets.precision).toBeGreaterThanOrEqual(0.9);
    expect(figures.targets.recall).toBeGreaterThanOrEqual(0.9);
  });

  it('gives at least 80% of the found commitments the labelled topic', () => {
    expect(figures.topic.accuracy).toBeGreaterThanOrEqual(0.8);
  });
});
