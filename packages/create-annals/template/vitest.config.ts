import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Decorated classes need the Reflect metadata API before any test file imports them.
    setupFiles: ['reflect-metadata'],
    include: ['test/**/*.test.ts'],
    // The first start of PGlite creates a database cluster: seconds, up to a minute on a busy machine.
    hookTimeout: 120_000,
    testTimeout: 60_000,
  },
});
