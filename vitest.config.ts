import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (the domain with fakes, HTTP through inject, the stores' contracts, the
 * repository's own checks: seconds) and `e2e` (the real server with the real Claude Code binary
 * and the fake model API, the key CLI as a process, the seed's client examples, the web console
 * in Chromium: minutes).
 * `npm test` runs both; `npm run test:unit`, `test:e2e` and `test:watch` one.
 */
const UNIT = [
  'src/**/*.test.ts',
  'test/http/**/*.test.ts',
  'test/store/**/*.test.ts',
  'test/redis/**/*.test.ts',
  'test/repo/**/*.test.ts',
  'console/**/*.test.ts',
];
const E2E = ['test/e2e/**/*.test.ts', 'test/cli/**/*.test.ts', 'test/clients/**/*.test.ts'];

export default defineConfig({
  test: {
    // End-to-end tests spawn the real Claude Code binary (about 200 MB and 0.5 s of CPU each);
    // on a 2-core machine more than two files at once only makes every test slower.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      // The unit files share each worker's module graph instead of re-importing the server per
      // file (the import was about 60% of the unit loop's time): nothing in them keeps state in a
      // module between files (each builds its own app, store and clock).
      { extends: true, test: { name: 'unit', include: UNIT, isolate: false } },
      { extends: true, test: { name: 'e2e', include: E2E } },
    ],
  },
});
