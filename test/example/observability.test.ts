import 'reflect-metadata';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openBank } from '../../examples/bank-account/src/app.js';
import { OpenAccount } from '../../examples/bank-account/src/application/commands.js';
import { UsageError } from '../../examples/bank-account/src/cli.js';
import { setUpObservability } from '../../examples/bank-account/src/observability.js';

afterEach(() => {
  vi.restoreAllMocks();
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

describe("the example's observability wiring", () => {
  it('loads nothing by default: no logger of its own, no SDK', async () => {
    const observability = await setUpObservability({});
    expect(observability.logger).toBeUndefined();
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording(), 'no tracer provider registered').toBe(false);
    span.end();
    await observability.shutdown();
  });

  it('refuses an unknown value of ANNALS_OTEL or ANNALS_LOGGER with a UsageError', async () => {
    await expect(setUpObservability({ ANNALS_OTEL: 'jaeger' })).rejects.toThrow(UsageError);
    await expect(setUpObservability({ ANNALS_LOGGER: 'winston' })).rejects.toThrow(
      'ANNALS_LOGGER must be "pino" (or unset), found "winston".',
    );
  });

  it('ANNALS_OTEL=console prints the spans of the commands; ANNALS_LOGGER=pino logs them', async () => {
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((value: unknown) => void printed.push(value));
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const observability = await setUpObservability({ ANNALS_OTEL: 'console', ANNALS_LOGGER: 'pino' });
    const bank = await openBank(
      { store: 'memory', dataDir: '', databaseUrl: undefined, reset: false },
      { logger: observability.logger },
    );
    try {
      await bank.bus.execute(OpenAccount, { accountId: 'otel', owner: 'Otto' });
    } finally {
      await bank.close();
      await observability.shutdown();
      vi.mocked(process.stdout.write).mockRestore();
    }
    const names = printed.map((value) => (value as { name?: unknown }).name);
    expect(names).toContain('annals.command OpenAccount');
    expect(names).toContain('annals.append');
    const lines = written.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
    expect(lines).toContainEqual(
      expect.objectContaining({
        name: 'bank-account',
        commandType: 'OpenAccount',
        msg: 'Command OpenAccount succeeded',
      }),
    );
  });
});
