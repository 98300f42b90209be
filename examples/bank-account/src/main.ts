import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { openBank } from './app.js';
import { parseOptions, UsageError, usage } from './cli.js';
import { report } from './report.js';
import { runScenario } from './scenario.js';

const defaultDataDir = fileURLToPath(new URL('../.data', import.meta.url));

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2), process.env, defaultDataDir);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
  if (options === 'help') {
    console.log(usage);
    return 0;
  }
  const bank = await openBank(options);
  try {
    const result = await runScenario(bank);
    console.log(await report(bank, result));
    return 0;
  } finally {
    await bank.close();
  }
}

process.exitCode = await main();
