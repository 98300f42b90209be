#!/usr/bin/env node
// Scaffolds an Annals project: `npm create annals@latest my-app`.
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const usage = `Usage: npm create annals@latest <directory>

Creates <directory> with an Annals application: an aggregate, commands, a projection into a
PostgreSQL table, an upcaster, their tests, and scripts to run it on PGlite or on DATABASE_URL.

Options:
  -h, --help  show this help`;

const here = fileURLToPath(new URL('.', import.meta.url));
const own = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));

/** The dependencies of a new project: the Annals release this starter belongs to, and tested peers. */
function projectPackage(name) {
  const annals = `^${own.version}`;
  return {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=22.12' },
    scripts: {
      build: 'tsc',
      typecheck: 'tsc --noEmit',
      start: 'tsc && node --enable-source-maps dist/src/main.js',
      test: 'vitest run',
    },
    dependencies: {
      '@annals/core': annals,
      '@annals/postgres': annals,
      '@electric-sql/pglite': '^0.5.16',
      kysely: '^0.29.9',
      pg: '^8.23.1',
      'reflect-metadata': '^0.2.2',
      tsyringe: '^4.10.0',
      zod: '^4.6.7',
    },
    devDependencies: {
      '@annals/testing': annals,
      '@types/node': '^22.20.5',
      typescript: '^7.0.2',
      vitest: '^5.1.1',
    },
  };
}

function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    console.error(`Expected one directory, found ${parsed.positionals.length}.\n\n${usage}`);
    return 2;
  }
  const target = resolve(parsed.positionals[0]);
  if (existsSync(target) && readdirSync(target).length > 0) {
    console.error(`${target} exists and is not empty; choose a new directory.`);
    return 1;
  }
  const name = basename(target)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-');
  cpSync(join(here, '..', 'template'), target, { recursive: true });
  // npm drops .gitignore from published packages, so the template ships it as `gitignore`.
  renameSync(join(target, 'gitignore'), join(target, '.gitignore'));
  const readme = join(target, 'README.md');
  writeFileSync(readme, readFileSync(readme, 'utf8').replaceAll('__NAME__', name));
  writeFileSync(join(target, 'package.json'), `${JSON.stringify(projectPackage(name), null, 2)}\n`);
  const cd = relative(process.cwd(), target) || '.';
  console.log(`Created ${name} in ${target}.

Next:
  cd ${cd}
  npm install
  npm test     # the aggregate and projection specs
  npm start    # on PGlite (data in .data/); set DATABASE_URL to use a PostgreSQL server`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
