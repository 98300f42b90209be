import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/support/cli.js';

// `annals console` refuses bad options before it opens anything.
describe('annals console: options', () => {
  it('refuses --token without --allow-actions, and a port that is not one', async () => {
    const token = await runCli(['--data', 'memory://', 'console', '--token', 'ops=0123456789abcdef01']);
    expect(token.code, token.stderr).toBe(2);
    expect(token.stderr).toContain('INVALID_ARGUMENT: --token is only used with --allow-actions');
    const port = await runCli(['--data', 'memory://', 'console', '--port', 'http']);
    expect(port.code, port.stderr).toBe(2);
    expect(port.stderr).toContain('--port expects a port number from 0 to 65535, found "http"');
  });

  it('refuses a token whose secret is too short', async () => {
    const result = await runCli([
      '--data',
      'memory://',
      'console',
      '--allow-actions',
      '--token',
      'ops=short',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('The secret of console token ops must be at least 16 characters');
  });
});
