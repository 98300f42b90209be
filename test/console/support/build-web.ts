import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Global setup of `pnpm test:console`: builds the front end into packages/console/dist/web (what the
 * package ships and the server serves), so the browser tests run on the current sources.
 */
export default async function setup(): Promise<void> {
  await build({
    configFile: fileURLToPath(new URL('../../../packages/console/web/vite.config.ts', import.meta.url)),
  });
}
