import { defineConfig } from 'vitest/config';

// Browser tests (*.browser.test.ts) and slow once-only tests (*.once.test.ts, e.g. waiting for
// real cron ticks) run on the README's `npm test`; CI's repeat runs on other Node and PostgreSQL
// versions set DCS_TEST_REPEAT=1 and leave them out.
const repeat = process.env.DCS_TEST_REPEAT === '1';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: repeat ? ['**/node_modules/**', 'test/**/*.browser.test.ts', 'test/**/*.once.test.ts'] : ['**/node_modules/**'],
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
