/**
 * Prints where a V8 CPU profile (`node --cpu-prof`) spent its time: self time per function and per
 * package, so a profile can be read in a terminal and quoted in docs/guides/performance.md.
 *
 *   tsx test/bench/profile/summarize-cpu-profile.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Groups a script URL into the package (or our source folder) it belongs to. */
export function owner(url: string, functionName: string): string {
  if (url === '')
    return ['(idle)', '(garbage collector)', '(program)'].includes(functionName) ? functionName : '(native)';
  const pnpm = /node_modules\/\.pnpm\/([^/]+)\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pnpm !== null) return pnpm[2]!;
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (plain !== null) return plain[1]!;
  const ours = /\/(packages\/[^/]+\/src\/[^/]+|test\/bench)\//.exec(url);
  if (ours !== null) return ours[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: summarize-cpu-profile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const perFunction = new Map<string, number>();
  const perOwner = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const frame = byId.get(id)!.callFrame;
    const where = owner(frame.url, frame.functionName);
    const name = `${frame.functionName || '(anonymous)'}  [${where}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}]`;
    perFunction.set(name, (perFunction.get(name) ?? 0) + ms);
    perOwner.set(where, (perOwner.get(where) ?? 0) + ms);
  }
  const print = (title: string, entries: Map<string, number>, limit: number) => {
    process.stdout.write(`\n${title}\n`);
    for (const [name, ms] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
      process.stdout.write(
        `${ms.toFixed(0).padStart(8)} ms ${((ms / totalMs) * 100).toFixed(1).padStart(5)}%  ${name}\n`,
      );
    }
  };
  process.stdout.write(`profile: ${totalMs.toFixed(0)} ms wall\n`);
  print('self time by package / source folder', perOwner, 20);
  print(`self time by function (top ${top})`, perFunction, top);
}

main();
