import { describe, expect, it, vi } from 'vitest';
import { PostCommitNotifier } from './post-commit-notifier.js';

/** A send that records its calls and resolves when the test says so. */
function controlledSend() {
  const calls: (() => void)[] = [];
  const send = vi.fn(() => new Promise<void>((resolve) => calls.push(resolve)));
  return { send, finish: () => calls.shift()?.() };
}

describe('PostCommitNotifier', () => {
  it('gathers the signals of a burst into one notification after the delay', async () => {
    vi.useFakeTimers();
    try {
      const send = vi.fn(async () => {});
      const notifier = new PostCommitNotifier(send, 5);
      for (let i = 0; i < 10; i++) notifier.signal();
      expect(send, 'nothing is sent before the delay').not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(5);
      expect(send).toHaveBeenCalledTimes(1);
      notifier.signal();
      await vi.advanceTimersByTimeAsync(5);
      expect(send, 'a later signal gets its own notification').toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('signals that arrive while a notification is in flight share one more', async () => {
    const { send, finish } = controlledSend();
    const notifier = new PostCommitNotifier(send, 0);
    notifier.signal();
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(1));
    notifier.signal();
    notifier.signal();
    finish();
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(2));
    finish();
    await notifier.close();
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('close() sends what is pending without waiting for the delay, then ignores signals', async () => {
    const send = vi.fn(async () => {});
    const notifier = new PostCommitNotifier(send, 60_000);
    notifier.signal();
    await notifier.close();
    expect(send).toHaveBeenCalledTimes(1);
    notifier.signal();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('a failed notification is swallowed and the next signal still notifies', async () => {
    const send = vi.fn().mockRejectedValueOnce(new Error('connection lost')).mockResolvedValue(undefined);
    const notifier = new PostCommitNotifier(send, 0);
    notifier.signal();
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(1));
    notifier.signal();
    await vi.waitFor(() => expect(send).toHaveBeenCalledTimes(2));
    await notifier.close();
  });
});
