import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { openBank } from './app.js';
import { parseOptions, UsageError, usage } from './cli.js';
import { type Observability, setUpObservability } from './observability.js';
import { report } from './report.js';
import { ResetRefused } from './reset-refused.js';
import { runScenario } from './scenario.js';

const defaultDataDir = fileURLToPath(new URL('../.data', import.meta.url));

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  let observability: Observability;
  try {
    options = parseOptions(process.argv.slice(2), process.env, defaultDataDir);
    observability = await setUpObservability(process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    console.log(usage);
    return 0;
  }
  let bank: Awaited<ReturnType<typeof openBank>>;
  try {
    bank = await openBank(options, { logger: observability.logger });
  } catch (error) {
    await observability.shutdown();
    if (!(error instanceof ResetRefused)) throw error;
    console.error(error.message);
    return 1;
  }
  if (options.reset) {
    console.log(
      bank.resetDeleted.length === 0
        ? '--reset: nothing the example created was there to delete.'
        : `--reset deleted what the example had created:\n${bank.resetDeleted.map((what) => `  ${what}`).join('\n')}`,
    );
  }
  try {
    const result = await runScenario(bank);
    console.log(await report(bank, result));
    return 0;
  } finally {
    await bank.close();
    await observability.shutdown();
  }
}

process.exitCode = await main();
