import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultEmbedWorkers, loadConfig } from './config.js';

describe('embedding workers', () => {
  it('default to one per core but one, keeping a core for the serving thread, and never to none', () => {
    expect(defaultEmbedWorkers(1)).toBe(1);
    expect(defaultEmbedWorkers(2)).toBe(1);
    expect(defaultEmbedWorkers(8)).toBe(7);
    expect(loadConfig({}).embedWorkers).toBe(Math.max(1, os.availableParallelism() - 1));
  });

  it('follow EMBED_WORKERS when it is set, 0 included (in the main thread)', () => {
    expect(loadConfig({ EMBED_WORKERS: '3' }).embedWorkers).toBe(3);
    expect(loadConfig({ EMBED_WORKERS: '0' }).embedWorkers).toBe(0);
  });
});
