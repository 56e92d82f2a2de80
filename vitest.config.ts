import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Builds the real index from the shipped corpus once, with the real model, for every suite.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single one on a 2-core machine, so
    // files ran one after the other while most of them wait on child processes, HTTP or chromium.
    // Two or more run side by side (every suite uses its own scratch folders and port 0); three
    // test files took 14 s instead of 24 s on a busy 2-core machine. `--maxWorkers=1` restores the old way.
    maxWorkers: Math.max(2, os.availableParallelism()),
    minWorkers: 1,
  },
});
