import { describe, expect, it } from 'vitest';
import { WorkerState } from './worker-state.js';

describe('WorkerState', () => {
  it('starts stopped, moves through the allowed transitions and reports each change', () => {
    let changes = 0;
    const state = new WorkerState(() => changes++);
    expect(state.current).toBe('stopped');
    state.to('standby');
    state.to('catching-up');
    state.to('running');
    state.to('running'); // no change: no report
    state.to('failed');
    state.to('rebuilding'); // a restart
    state.to('stopped');
    expect(state.current).toBe('stopped');
    expect(changes).toBe(6);
    expect(state.is('stopped', 'failed')).toBe(true);
  });

  it('throws on a transition the table does not allow, leaving the state as it was', () => {
    const state = new WorkerState(() => {});
    expect(() => state.to('running')).toThrow('Illegal projection worker transition: stopped -> running.');
    expect(() => state.to('failed')).toThrow('Illegal projection worker transition: stopped -> failed.');
    state.to('catching-up');
    state.to('failed');
    expect(() => state.to('stopped')).toThrow('Illegal projection worker transition: failed -> stopped.');
    expect(state.current).toBe('failed');
  });
});
