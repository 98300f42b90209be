import { InMemoryEventStore } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { exportLine, parseExportLine } from './ndjson.js';

describe('export lines and tags', () => {
  it('an exported tagged event imports with its tags; an untagged one has no tags field; bad tags are refused', async () => {
    const source = new InMemoryEventStore();
    await source.append('s-1', [
      { type: 'Noted', data: { n: 1 }, tags: ['b', 'a"%_\\'] },
      { type: 'Noted', data: { n: 2 } },
    ]);
    const events = [];
    for await (const e of source.readAll()) events.push(e);
    const lines = events.map(exportLine);
    expect(JSON.parse(lines[1]!)).not.toHaveProperty('tags');
    const target = new InMemoryEventStore();
    for (const [i, line] of lines.entries()) {
      const imported = parseExportLine(line, i + 1);
      await target.append(imported.streamId, [imported.event], {
        import: true,
        recordedAt: [imported.recordedAt],
      });
    }
    const copied = [];
    for await (const e of target.readAll()) copied.push(e.tags);
    expect(copied).toEqual([['a"%_\\', 'b'], []]);
    const bad = JSON.stringify({ ...JSON.parse(lines[0]!), tags: 'a' });
    expect(() => parseExportLine(bad, 7)).toThrow(/Line 7 .*tags/);
  });
});
