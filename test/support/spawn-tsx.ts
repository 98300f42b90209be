import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsx = import.meta.resolve('tsx');

/** How a child process ended, and what it printed. */
export interface ChildOutcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Spawns `node --import tsx <script> ...args` from the repository root (the workspace packages
 * resolve to their sources through tsconfig.json's paths), with `env` added to this environment.
 */
export function spawnTsx(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', tsx, script, ...args], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for a spawned child to end; `onLine` sees each line it prints to stdout as it comes. */
export function outcomeOf(
  child: ChildProcess,
  onLine: (line: string) => void = () => {},
): Promise<ChildOutcome> {
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) onLine(line);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs a script with tsx to its end. */
export function runTsx(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ChildOutcome> {
  return outcomeOf(spawnTsx(script, args, env));
}
