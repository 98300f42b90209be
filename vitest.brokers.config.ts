import { apartSuite } from './test/support/apart-suite.js';

/**
 * `pnpm test:brokers`: the outbox and inbox against real brokers (test/brokers/). The normal cases
 * use the NATS (JetStream) server on 127.0.0.1:4222 and the RabbitMQ broker on 127.0.0.1:5672, each
 * test with streams and queues of its own; the fault cases start a broker of their own on a free
 * port, kill and restart it, and SIGKILL a publisher process. Excluded from `pnpm test`.
 */
export default apartSuite({
  name: 'brokers',
  include: ['test/brokers/**/*.test.ts'],
  fileParallelism: false,
  testTimeout: 300_000,
  hookTimeout: 120_000,
});
