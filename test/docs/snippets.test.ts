import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownFiles, root, snippets } from '../../scripts/snippets.js';

describe('documentation snippets', () => {
  for (const file of markdownFiles()) {
    const name = relative(root, file);
    it(`${name}: every snippet equals the tested code it names (run \`pnpm docs:sync\` to fix)`, () => {
      for (const s of snippets(file)) {
        expect(s.shown, `${name} shows a stale copy of ${s.source}#${s.name}`).toBe(s.actual);
      }
    });
  }

  it('the README shows the quickstart from a tested file', () => {
    const readme = snippets(`${root}/README.md`);
    expect(readme.map((s) => `${s.source}#${s.name}`)).toContain(
      'examples/quickstart/src/quickstart.ts#quickstart',
    );
  });
});
