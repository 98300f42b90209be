import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';
import base from '../../vitest.config.js';

/** The test options of a suite that runs apart from `pnpm test` (its name and files, and its bounds). */
export type ApartSuiteOptions = NonNullable<ViteUserConfig['test']> & {
  readonly name: string;
  readonly include: string[];
};

/**
 * The vitest config of a suite that runs apart (`pnpm test:<name>`): the main config's aliases,
 * setup and worker count, without its project (whose exclude list names these files), and with
 * the suite's own files and bounds.
 */
export function apartSuite(test: ApartSuiteOptions): ViteUserConfig {
  return mergeConfig(
    { ...base, test: { ...base.test, projects: undefined } },
    defineConfig({ test: { exclude: ['**/node_modules/**', '**/dist/**'], ...test } }),
  );
}
