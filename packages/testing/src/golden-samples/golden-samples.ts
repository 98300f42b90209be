import { AssertionError } from 'node:assert';
import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AnyEventDefinition,
  EventRegistry,
  type RecordedEvent,
  type UpcasterRegistry,
  type UpcastTarget,
} from '@annals/core';

/**
 * Which (type, version) pairs must have a golden sample:
 * - `'none'`: only check the samples that exist;
 * - `'current'`: also the current version of every defined type (what is written today);
 * - `'every-version'`: also every version an upcaster starts from (what is stored from the past).
 */
export type GoldenSamplesRequirement = 'none' | 'current' | 'every-version';

/** Options of {@link verifyGoldenSamples} and {@link expectGoldenSamplesValid}. */
export interface GoldenSamplesOptions {
  /**
   * The folder of samples: one sub-folder per stored event type, one file per version, named
   * `v<version>.json` and holding the event's data, with an optional `v<version>.metadata.json` next
   * to it for upcasters that read metadata (default `{}`). Files named `*.md` and dot-files are ignored.
   *
   * ```text
   * golden/
   *   MoneyDeposited/v1.json            { "accountId": "a-1", "amount": 1250 }
   *   MoneyDeposited/v1.metadata.json   { "channel": "web" }
   *   MoneyDeposited/v3.json
   *   FundsAdded/v1.json                a type renamed away still has samples
   * ```
   */
  readonly dir: string | URL;
  /** The application's event definitions, or the `EventRegistry` its stores use. */
  readonly events: readonly AnyEventDefinition[] | EventRegistry;
  /** The application's upcasters. Leave out when `events` is a registry: it brings its own. */
  readonly upcasters?: UpcasterRegistry;
  /** Which samples must exist. Default `'none'`. */
  readonly require?: GoldenSamplesRequirement;
}

/** The outcome for one sample file. */
export interface GoldenSampleResult {
  /** The stored type (the sample's folder name). */
  readonly type: string;
  /** The stored version (from the file name). */
  readonly version: number;
  /** The sample's path relative to `dir`, e.g. `MoneyDeposited/v1.json`. */
  readonly file: string;
  readonly ok: boolean;
  /** What the sample is read as (the current type and version), when the chain is known. */
  readonly readAs?: UpcastTarget;
  /** The current event the sample is read as, when `ok`. */
  readonly event?: RecordedEvent;
  /** Why the sample failed, when not `ok`. */
  readonly error?: Error;
}

/** What {@link verifyGoldenSamples} found. */
export interface GoldenSamplesReport {
  /** True when there is no problem. */
  readonly ok: boolean;
  /** One result per sample file, sorted by type then version. */
  readonly samples: readonly GoldenSampleResult[];
  /** The (type, version) pairs that `require` asks for and that have no sample. */
  readonly missing: readonly UpcastTarget[];
  /** Every problem as one line: failing samples, missing samples, misnamed files, a broken chain. */
  readonly problems: readonly string[];
}

const SAMPLE = /^v([1-9][0-9]*)\.json$/;
const METADATA = /^v([1-9][0-9]*)\.metadata\.json$/;
const GOLDEN_ID = '00000000-0000-7000-8000-000000000000';

/**
 * Checks that every stored example payload in `dir` still reads as a valid current event: each
 * sample is imported the way `append(..., { import: true })` would take it (upcast through the chain
 * and validated by the current schema; a sample at the current version is validated by it directly)
 * and decoded the way every read does. Never throws for a bad sample: it reports.
 *
 * Keep one sample per (type, version) your stores hold, and a breaking schema change (a new required
 * field without a version bump, an upcaster that no longer fits) fails CI instead of a read in production.
 *
 * @example
 * ```ts
 * const report = await verifyGoldenSamples({ dir: new URL('./golden', import.meta.url), events: bankEvents, upcasters });
 * for (const sample of report.samples) console.log(sample.file, sample.ok ? 'ok' : sample.error?.message);
 * ```
 */
export async function verifyGoldenSamples(options: GoldenSamplesOptions): Promise<GoldenSamplesReport> {
  const dir = typeof options.dir === 'string' ? options.dir : fileURLToPath(options.dir);
  const problems: string[] = [];
  let registry: EventRegistry;
  try {
    const { events, upcasters } = options;
    registry = EventRegistry.from(
      (upcasters === undefined ? { events } : { events, upcasters }) as Parameters<
        typeof EventRegistry.from
      >[0],
    );
  } catch (error) {
    problems.push(`the event definitions and upcasters cannot be used: ${messageOf(error)}`);
    return { ok: false, samples: [], missing: [], problems };
  }

  const found = await findSamples(dir, problems);
  const samples: GoldenSampleResult[] = [];
  for (const sample of found) {
    const result = await verifySample(registry, dir, sample);
    samples.push(result);
    if (!result.ok) problems.push(`${result.file}: ${messageOf(result.error)}`);
  }

  const missing: UpcastTarget[] = [];
  const have = new Set(found.map((s) => key(s.type, s.version)));
  for (const wanted of required(registry, options.require ?? 'none')) {
    if (have.has(key(wanted.type, wanted.version))) continue;
    missing.push(wanted);
    problems.push(
      `${wanted.type}/v${wanted.version}.json: missing; add a stored example of ${wanted.type} v${wanted.version}.`,
    );
  }
  return { ok: problems.length === 0, samples, missing, problems };
}

/**
 * Asserts that every golden sample in `dir` reads as a valid current event (see
 * {@link verifyGoldenSamples}); throws an `AssertionError` listing each problem otherwise, so one
 * test covers the whole folder. Returns the report.
 *
 * @example
 * ```ts
 * it('golden samples still read as current events', async () => {
 *   await expectGoldenSamplesValid({ dir: new URL('./golden', import.meta.url), events: bankEvents, upcasters, require: 'current' });
 * });
 * ```
 */
export async function expectGoldenSamplesValid(options: GoldenSamplesOptions): Promise<GoldenSamplesReport> {
  const report = await verifyGoldenSamples(options);
  if (!report.ok) {
    const dir = typeof options.dir === 'string' ? options.dir : fileURLToPath(options.dir);
    throw new AssertionError({
      message: `${report.problems.length} golden sample problem(s) in ${dir}:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`,
    });
  }
  return report;
}

interface FoundSample {
  readonly type: string;
  readonly version: number;
  /** Relative to the folder, with `/` separators. */
  readonly file: string;
  readonly metadataFile: string | undefined;
}

async function findSamples(dir: string, problems: string[]): Promise<FoundSample[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    problems.push(`the golden samples folder ${dir} cannot be read: ${messageOf(error)}`);
    return [];
  }
  const samples: FoundSample[] = [];
  for (const entry of entries) {
    if (ignored(entry.name)) continue;
    if (!entry.isDirectory()) {
      problems.push(`${entry.name}: not a sample; samples live in <EventType>/v<version>.json.`);
      continue;
    }
    const type = entry.name;
    const files = (await readdir(join(dir, type), { withFileTypes: true })).filter((f) => !ignored(f.name));
    const names = new Set(files.map((f) => f.name));
    for (const file of files) {
      const sample = SAMPLE.exec(file.name);
      const metadata = METADATA.exec(file.name);
      if (sample !== null && file.isFile()) {
        const metadataName = `v${sample[1]}.metadata.json`;
        samples.push({
          type,
          version: Number(sample[1]),
          file: `${type}/${file.name}`,
          metadataFile: names.has(metadataName) ? `${type}/${metadataName}` : undefined,
        });
      } else if (metadata !== null && file.isFile()) {
        if (!names.has(`v${metadata[1]}.json`)) {
          problems.push(`${type}/${file.name}: metadata without its sample ${type}/v${metadata[1]}.json.`);
        }
      } else {
        problems.push(
          `${type}/${file.name}: not a sample; expected v<version>.json or v<version>.metadata.json (version an integer >= 1).`,
        );
      }
    }
  }
  return samples.sort((a, b) => (a.type === b.type ? a.version - b.version : a.type < b.type ? -1 : 1));
}

async function verifySample(
  registry: EventRegistry,
  dir: string,
  sample: FoundSample,
): Promise<GoldenSampleResult> {
  const { type, version, file } = sample;
  const base = { type, version, file };
  let readAs: UpcastTarget | undefined;
  try {
    const data = await readJson(dir, file);
    const metadata = sample.metadataFile === undefined ? {} : await readJson(dir, sample.metadataFile);
    readAs = registry.upcastTarget(type, version);
    if (registry.definition(readAs.type) === undefined) {
      throw new Error(
        readAs.type === type
          ? `no event definition has type ${type} and no upcaster leads from it to one.`
          : `it is read as ${readAs.type}, which no event definition has.`,
      );
    }
    // The same checks as an import: upcast + current schema (or the schema directly at the current version).
    const [prepared] = registry.prepare(
      'golden-samples',
      [{ id: GOLDEN_ID, type, schemaVersion: version, data, metadata: metadata as Record<string, unknown> }],
      { import: true },
    );
    const event = registry.decode({
      id: GOLDEN_ID,
      type,
      schemaVersion: version,
      streamId: 'golden-samples',
      revision: 0n,
      position: 1n,
      data: JSON.parse(prepared!.dataJson),
      metadata: JSON.parse(prepared!.metadataJson),
      recordedAt: new Date(0),
    });
    return { ...base, ok: true, readAs, event };
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    return { ...base, ok: false, ...(readAs === undefined ? {} : { readAs }), error: failure };
  }
}

function required(registry: EventRegistry, requirement: GoldenSamplesRequirement): UpcastTarget[] {
  if (requirement === 'none') return [];
  const wanted = registry.definitions().map((d) => ({ type: d.type, version: d.version }));
  if (requirement === 'every-version') {
    for (const step of registry.upcasters.list()) wanted.push({ type: step.type, version: step.from });
  }
  return wanted.sort((a, b) => (a.type === b.type ? a.version - b.version : a.type < b.type ? -1 : 1));
}

async function readJson(dir: string, file: string): Promise<unknown> {
  const text = await readFile(join(dir, ...file.split('/')), 'utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${messageOf(error)}`);
  }
}

function ignored(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.md');
}

function key(type: string, version: number): string {
  return `${type}\u0000${version}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
