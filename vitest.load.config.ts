import { defineConfig } from 'vitest/config';

/**
 * The optional load tier (`npm run test:load`): drives the real server for a bounded time. Not
 * part of `npm test`, whose config includes only `*.test.ts`.
 */
export default defineConfig({
  test: {
    include: ['test/load/**/*.load.ts'],
    // The same real index from the shipped corpus as the main suite.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
