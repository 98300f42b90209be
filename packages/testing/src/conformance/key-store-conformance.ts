import type { KeyStore } from '@annals/core';
import { describe, expect, it } from 'vitest';
import { expectAnnalsError } from './expect-error.js';

/** Options of {@link runKeyStoreConformance}. */
export interface KeyStoreConformanceOptions {
  /** Shown in the test names. */
  readonly name: string;
  /** A fresh, empty key store for each case. */
  createKeyStore(): KeyStore | Promise<KeyStore>;
  /** Another handle on the keys of `keys` (another connection, a restarted process); optional. */
  openPeer?(keys: KeyStore): KeyStore | Promise<KeyStore>;
}

const hex = (key: Uint8Array | undefined) =>
  key === undefined ? undefined : Buffer.from(key).toString('hex');

/**
 * Registers the cases every {@link KeyStore} must pass: a subject's first key is created once and
 * returned again; keys are 32 bytes and differ between subjects; a rotation adds a version and keeps
 * the older ones; forgetting destroys every version, is remembered (reads say `forgotten`, new keys
 * are refused with `ForgottenSubjectRefused`) and is idempotent; a subject never heard of is absent
 * (so a lost key store is told apart from a forgotten subject); bad subjects are `InvalidArgument`.
 *
 * @example
 * ```ts
 * runKeyStoreConformance({ name: 'InMemoryKeyStore', createKeyStore: () => new InMemoryKeyStore() });
 * ```
 */
export function runKeyStoreConformance(options: KeyStoreConformanceOptions): void {
  describe(`${options.name}: key store conformance`, () => {
    it('creates a 32-byte key per subject once, returns it again, and keeps subjects apart', async () => {
      const keys = await options.createKeyStore();
      const first = await keys.currentKeys(['s-1', 's-2', 's-1']);
      expect([...first.keys()].sort()).toEqual(['s-1', 's-2']);
      expect(first.get('s-1')!.version).toBe(1);
      expect(first.get('s-1')!.key.length).toBe(32);
      expect(hex(first.get('s-1')!.key)).not.toBe(hex(first.get('s-2')!.key));
      const again = await keys.currentKeys(['s-1']);
      expect(hex(again.get('s-1')!.key)).toBe(hex(first.get('s-1')!.key));
      const known = (await keys.keys(['s-1', 'never-seen'])).get('s-1');
      expect(known?.forgotten === false && hex(known.versions.get(1))).toBe(hex(first.get('s-1')!.key));
      expect((await keys.keys(['never-seen'])).has('never-seen'), 'an unknown subject is absent').toBe(false);
      expect((await keys.currentKeys([])).size).toBe(0);
    });

    it('rotates: a new current version, older versions still readable', async () => {
      const keys = await options.createKeyStore();
      const v1 = (await keys.currentKeys(['s-1'])).get('s-1')!;
      const v2 = await keys.rotate('s-1');
      expect(v2.version).toBe(2);
      expect(hex(v2.key)).not.toBe(hex(v1.key));
      expect(hex((await keys.currentKeys(['s-1'])).get('s-1')!.key)).toBe(hex(v2.key));
      const known = (await keys.keys(['s-1'])).get('s-1');
      expect(known?.forgotten === false && [...known.versions.keys()].sort()).toEqual([1, 2]);
      expect(known?.forgotten === false && hex(known.versions.get(1))).toBe(hex(v1.key));
      expect((await keys.rotate('fresh')).version, 'a rotation of a subject without keys starts it').toBe(1);
    });

    it('forgets every version, remembers it, refuses new keys for it, and forgetting again is harmless', async () => {
      const keys = await options.createKeyStore();
      await keys.currentKeys(['s-1', 's-2']);
      await keys.rotate('s-1');
      await keys.forget('s-1');
      await keys.forget('s-1');
      await keys.forget('never-had-keys');
      const known = await keys.keys(['s-1', 's-2', 'never-had-keys']);
      expect(known.get('s-1')).toEqual({ forgotten: true });
      expect(known.get('never-had-keys')).toEqual({ forgotten: true });
      expect(known.get('s-2')?.forgotten).toBe(false);
      await expectAnnalsError(() => keys.currentKeys(['s-2', 's-1']), 'FORGOTTEN_SUBJECT_REFUSED');
      await expectAnnalsError(() => keys.rotate('s-1'), 'FORGOTTEN_SUBJECT_REFUSED');
      if (options.openPeer !== undefined) {
        const peer = await options.openPeer(keys);
        expect((await peer.keys(['s-1'])).get('s-1')).toEqual({ forgotten: true });
        expect((await peer.keys(['s-2'])).get('s-2')?.forgotten).toBe(false);
      }
    });

    it('refuses an empty or non-string subject with InvalidArgument', async () => {
      const keys = await options.createKeyStore();
      await expectAnnalsError(() => keys.currentKeys(['']), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => keys.rotate(7 as unknown as string), 'INVALID_ARGUMENT');
      await expectAnnalsError(() => keys.forget(''), 'INVALID_ARGUMENT');
    });
  });
}
