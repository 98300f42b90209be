/**
 * Every relative link of README.md and the pages under docs/ points at a file of the repository, and
 * a link to a heading of a Markdown page (`page.md#heading`) at a heading that page has.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownFiles, root } from '../../scripts/snippets.js';

const LINK = /\]\(([^)\s]+)\)/g;

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[`*_]/g, '')
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/^(`{3,}).*\n[\s\S]*?^\1[ \t]*$/gm, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => anchor(m[1]!)));
}

/** Links outside code blocks, as written. */
function linksOf(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/^(`{3,}).*\n[\s\S]*?^\1[ \t]*$/gm, '');
  return [...text.matchAll(LINK)].map((m) => m[1]!);
}

describe('documentation links', () => {
  const pages = [
    ...markdownFiles(),
    ...['core', 'postgres', 'testing'].map((p) => join(root, 'packages', p, 'README.md')),
  ];
  for (const file of pages) {
    const name = relative(root, file);
    it(`${name}: every relative link reaches a file, and a #heading a heading of it`, () => {
      const broken: string[] = [];
      for (const link of linksOf(file)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        const [path, fragment] = link.split('#', 2) as [string, string | undefined];
        const target = path === '' ? file : join(dirname(file), decodeURIComponent(path));
        if (!existsSync(target)) broken.push(`${link} (no file ${relative(root, target)})`);
        else if (fragment !== undefined && target.endsWith('.md') && !anchorsOf(target).has(fragment)) {
          broken.push(`${link} (no heading #${fragment} in ${relative(root, target)})`);
        }
      }
      expect(broken, `${name} has broken links`).toEqual([]);
    });
  }
});
