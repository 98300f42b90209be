/**
 * The adapter of docs/guides/writing-an-adapter.md, proved: what survives a restart, what a torn write
 * leaves behind, and (below) the conformance suite every Annals store passes.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineEvent } from '@annals/core';
import { runEventStoreConformance, toArray } from '@annals/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JsonlEventStore } from './adapter/jsonl-event-store.js';

const dir = mkdtempSync(join(tmpdir(), 'annals-jsonl-'));
let files = 0;
const freshPath = () => join(dir, `store-${++files}.jsonl`);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NoteTaken = defineEvent('NoteTaken', { schema: z.object({ text: z.string() }) });

describe('JsonlEventStore (the adapter of docs/guides/writing-an-adapter.md)', () => {
  it('keeps its events across a restart: a new store on the same file reads the same log', async () => {
    const path = freshPath();
    const before = new JsonlEventStore({ path, events: [NoteTaken] });
    await before.append('notes-1', [NoteTaken.create({ text: 'one' }), NoteTaken.create({ text: 'two' })]);
    await before.append('notes-2', [NoteTaken.create({ text: 'three' })], { expectedRevision: 'no_stream' });
    const written = await toArray(before.readAll());
    await before.close();

    const after = new JsonlEventStore({ path, events: [NoteTaken] });
    const read = await toArray(after.readAll());
    expect(read).toEqual(written);
    expect(read.map((e) => `${e.streamId}@${e.revision}:${(e.data as { text: string }).text}`)).toEqual([
      'notes-1@0:one',
      'notes-1@1:two',
      'notes-2@0:three',
    ]);
    // The next append continues the revisions and positions where the file left off.
    const next = await after.append('notes-1', [NoteTaken.create({ text: 'four' })], {
      expectedRevision: 1n,
    });
    expect(next).toEqual({ nextExpectedRevision: 2n, firstPosition: 4n, lastPosition: 4n });
    await after.close();
  });

  it('writes one line per batch and ignores a torn last line, so a batch is all or nothing', async () => {
    const path = freshPath();
    const store = new JsonlEventStore({ path, events: [NoteTaken] });
    await store.append('notes-1', [NoteTaken.create({ text: 'one' }), NoteTaken.create({ text: 'two' })]);
    await store.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(2); // one batch line, then the final newline

    appendFileSync(path, '[{"id":"0193'); // a crash in the middle of the next write
    const reopened = new JsonlEventStore({ path, events: [NoteTaken] });
    expect((await toArray(reopened.readAll())).map((e) => e.revision)).toEqual([0n, 1n]);
    await reopened.close();
  });

  it('refuses a file whose damage is not a torn last write', () => {
    const path = freshPath();
    appendFileSync(path, 'not a batch\n[]\n');
    expect(() => new JsonlEventStore({ path })).toThrow(/Line 1 of .* is not a stored batch/);
  });
});

// #region conformance
runEventStoreConformance({
  name: 'JsonlEventStore',
  // A fresh, empty store per case, knowing the definitions and upcasters the case passes in.
  createStore: (options) => new JsonlEventStore({ ...options, path: freshPath() }),
  // What the store declares; the suite checks that the store says the same, and runs the cases these
  // flags call for. A flag left out is false.
  capabilities: { multiProcess: false, concurrentCommits: false },
});
// #endregion conformance
