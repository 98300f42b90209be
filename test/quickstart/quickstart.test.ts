import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('README quickstart', () => {
  it('prints the id, type and data of the event it published to my-stream', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'examples/quickstart/src/quickstart.ts'],
      { cwd: root },
    );
    expect(stdout.trim()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} MyEvent \{ text: 'Hello, world!' \}$/,
    );
  });
});
