import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `pnpm test:brokers`: the outbox and inbox against real brokers (test/brokers/). The normal cases
 * use the NATS (JetStream) server on 127.0.0.1:4222 and the RabbitMQ broker on 127.0.0.1:5672, each
 * test with streams and queues of its own; the fault cases start a broker of their own on a free
 * port, kill and restart it, and SIGKILL a publisher process. Excluded from `pnpm test`.
 */
export default mergeConfig(
  { ...base, test: { ...base.test, projects: undefined } },
  defineConfig({
    test: {
      name: 'brokers',
      include: ['test/brokers/**/*.test.ts'],
      exclude: ['**/node_modules/**', '**/dist/**'],
      fileParallelism: false,
      testTimeout: 300_000,
      hookTimeout: 120_000,
    },
  }),
);
