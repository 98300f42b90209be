/**
 * Keeps the code blocks of README.md and the pages under docs/ identical to regions of tested source files.
 *
 * A block is bound to a region by the comment line right above it:
 *
 *   <!-- snippet: examples/quickstart/src/quickstart.ts#quickstart -->
 *   ```ts
 *   ...
 *   ```
 *
 * and the source marks the region with `// #region quickstart` ... `// #endregion quickstart`.
 * `tsx scripts/snippets.ts` rewrites the blocks; `--check` only reports differences (the docs test
 * runs the check).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));

// The body is optional (lazily, so an empty block never reaches into the next one): an empty block
// must be found and filled too.
const MARKER = /^<!-- snippet: (\S+?)#(\S+) -->[ \t]*\n(`{3,})(\w*)\n(?:([\s\S]*?)\n)??\3[ \t]*$/gm;

/** Markdown files whose snippets are kept in sync: README.md and every page under docs/ (not the generated API reference). */
export function markdownFiles(): string[] {
  const files = [join(root, 'README.md')];
  for (const name of readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' }).sort()) {
    if (name.endsWith('.md') && !name.startsWith(`api${sep}`)) files.push(join(root, 'docs', name));
  }
  return files;
}

/** The text of `// #region name` in `file`, dedented. Throws if the region is missing. */
export function region(file: string, name: string): string {
  const text = readFileSync(join(root, file), 'utf8').split('\n');
  const start = text.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = text.findIndex((l, i) => i > start && l.trim() === `// #endregion ${name}`);
  if (start < 0 || end < 0) throw new Error(`Region ${name} not found in ${file}`);
  const lines = text.slice(start + 1, end).filter((l) => !/^\s*\/\/ #(end)?region /.test(l));
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** Every snippet of `file` with the code it shows and the code its region holds. */
export function snippets(file: string): { source: string; name: string; shown: string; actual: string }[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(MARKER)].map((m) => ({
    source: m[1]!,
    name: m[2]!,
    shown: m[5] ?? '',
    actual: region(m[1]!, m[2]!),
  }));
}

function sync(file: string): boolean {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(
    MARKER,
    (_all, source: string, name: string, fence: string, lang: string) =>
      `<!-- snippet: ${source}#${name} -->\n${fence}${lang}\n${region(source, name)}\n${fence}`,
  );
  if (next !== text) writeFileSync(file, next);
  return next !== text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const file of markdownFiles()) {
    if (check) {
      for (const s of snippets(file)) {
        if (s.shown !== s.actual) {
          stale++;
          console.log(`${relative(root, file)}: snippet ${s.source}#${s.name} differs from its source`);
        }
      }
    } else if (sync(file)) {
      console.log(`updated ${relative(root, file)}`);
    }
  }
  if (stale > 0) process.exit(1);
}
