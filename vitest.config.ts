import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Node 20 lacks Map.groupBy, which vitest's reporter calls when it reports a failure.
if (typeof (Map as { groupBy?: unknown }).groupBy !== 'function') {
  Object.defineProperty(Map, 'groupBy', {
    value<K, T>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> {
      const groups = new Map<K, T[]>();
      let index = 0;
      for (const item of items) {
        const k = key(item, index++);
        const group = groups.get(k);
        if (group) group.push(item);
        else groups.set(k, [item]);
      }
      return groups;
    },
  });
}

const src = (pkg: string, entry = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${entry}`, import.meta.url));

export default defineConfig({
  resolve: {
    // Subpaths first: an alias also matches the imports that start with its key and a slash.
    alias: {
      '@annals/core/adapter': src('core', 'adapter/index.ts'),
      '@annals/core/tsyringe': src('core', 'tsyringe/index.ts'),
      '@annals/core': src('core'),
      '@annals/testing': src('testing'),
      '@annals/postgres': src('postgres'),
      '@annals/outbox/nats': src('outbox', 'nats/index.ts'),
      '@annals/outbox/rabbitmq': src('outbox', 'rabbitmq/index.ts'),
      '@annals/outbox': src('outbox'),
      '@annals/console': src('console'),
    },
  },
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    setupFiles: ['reflect-metadata'],
    globalSetup: ['test/support/global-setup.ts'],
    // Bounds that only catch a hang: tests wait for conditions, and a loaded machine (other suites
    // on the same cores and server) may make a PGlite start or a server round trip many times slower.
    testTimeout: 120_000,
    // Most files wait on a database, not on the CPU: on 2 cores vitest's default (one worker fewer
    // than the cores) runs them one at a time, 375 s for the suite; three workers take 240 s.
    maxWorkers: 3,
    hookTimeout: 180_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
          // test/outage restarts a PostgreSQL cluster of its own for minutes: `pnpm test:outage`;
          // test/cli spawns the command line for minutes: `pnpm test:cli`; test/brokers starts, kills
          // and restarts brokers of its own: `pnpm test:brokers`; test/crash kills processes mid-command:
          // `pnpm test:crash`; test/process-crash kills bank nodes between every pair of steps:
          // `pnpm test:process`; test/console drives a browser: `pnpm test:console`; test/scale runs
          // tenants over three clusters of its own: `pnpm test:scale`; test/personal-data runs the
          // example's forget end to end and the key stores: `pnpm test:personal-data`; the bank example
          // spawned on PGlite folders it creates, and its `--reset`: `pnpm test:example`.
          exclude: [
            '**/node_modules/**',
            '**/dist/**',
            'test/postgres-stress/**',
            // The conformance suite on a server (own pool, a caller's Kysely): `pnpm test:server-conformance`.
            'test/conformance/postgres-server-pool.test.ts',
            'test/conformance/postgres-server-kysely.test.ts',
            'test/outage/**',
            'test/cli/**',
            'test/brokers/**',
            'test/crash/**',
            'test/process-crash/**',
            'test/console/**',
            'test/scale/**',
            'test/personal-data/**',
            'test/dcb/**',
            'test/example/bank-account.test.ts',
            'test/example/reset.test.ts',
          ],
        },
      },
    ],
  },
});
