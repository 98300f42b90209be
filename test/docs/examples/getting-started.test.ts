/**
 * The walk-through of docs/getting-started/first-app.md, run end to end on the in-memory store. The snippets
 * print what their comments say; the tests check those lines and more.
 */

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConcurrencyConflict,
  defineProjection,
  InMemoryEventStore,
  ProjectionRunner,
  Repository,
  retryOnConcurrency,
} from '@annals/core';
import { registerAnnals } from '@annals/core/tsyringe';
import {
  PostgresEventStore,
  type PostgresProjectionContext,
  PostgresProjectionRunner,
} from '@annals/postgres';
import { toArray } from '@annals/testing';
import type { Kysely } from 'kysely';
import { container as rootContainer } from 'tsyringe';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { Cart } from './getting-started/cart.js';
import { AddItem, AddItemHandler, OpenCart, OpenCartHandler } from './getting-started/commands.js';
import { CartOpened, cartEvents, ItemAdded } from './getting-started/events.js';

describe('docs/getting-started/first-app.md', () => {
  let log: MockInstance<typeof console.log>;
  beforeEach(() => {
    log = vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterEach(() => {
    log.mockRestore();
  });

  it('an aggregate saved through a repository is loaded back from its events', async () => {
    // #region repository
    const store = new InMemoryEventStore({ events: cartEvents });
    const carts = new Repository(Cart, { store });

    const cart = Cart.open('c-1', 'alice');
    cart.addItem('apple', 3);
    await carts.save(cart); // appends CartOpened and ItemAdded to the stream Cart-c-1

    const loaded = await carts.load('c-1'); // a new instance, rebuilt from the two events
    console.log(loaded.items, loaded.revision); // { apple: 3 } 1n

    loaded.checkOut();
    await carts.save(loaded);
    try {
      (await carts.load('c-1')).addItem('pear', 1);
    } catch (error) {
      console.log((error as Error).message); // Cart c-1 is checked out; nothing can be added.
    }
    // #endregion repository
    expect(log.mock.calls).toEqual([[{ apple: 3 }, 1n], ['Cart c-1 is checked out; nothing can be added.']]);
    expect((await toArray(store.readStream('Cart-c-1'))).map((e) => e.type)).toEqual([
      'CartOpened',
      'ItemAdded',
      'CartCheckedOut',
    ]);
    expect(loaded).not.toBe(cart);
    // A stale copy cannot overwrite: `cart` still believes the stream ends at revision 1.
    cart.addItem('fig', 1);
    await expect(carts.save(cart)).rejects.toBeInstanceOf(ConcurrencyConflict);
    await store.close();
  });

  it('commands go through the bus: validated, handled, and their events correlated', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    const container = rootContainer.createChildContainer(); // the docs use tsyringe's root container
    // #region bus
    const { bus } = registerAnnals(container, {
      store,
      handlers: [OpenCartHandler, AddItemHandler],
      middleware: [retryOnConcurrency()], // on ConcurrencyConflict: load again, decide again
    });

    const { cartId } = await bus.execute(OpenCart, { customerId: 'alice' });
    await bus.execute(AddItem, { cartId, sku: 'apple', quantity: 3 }, { correlationId: 'request-1' });

    try {
      await bus.execute(AddItem, { cartId, sku: '', quantity: 0 });
    } catch (error) {
      console.log((error as Error).message); // Command AddItem is invalid: sku: Too small: ...
    }
    // #endregion bus
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]![0]).toMatch(
      /^Command AddItem is invalid: sku: Too small: .*; quantity: Too small: /,
    );

    const events = await toArray(store.readStream(`Cart-${cartId}`));
    expect(events.map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded']);
    const [opened, added] = events;
    // OpenCart had no correlation id: its own command id is the correlation and the causation.
    expect(opened!.metadata.correlationId).toBe(opened!.metadata.causationId);
    // AddItem carries the request's correlation id, and its command id as causation.
    expect(added!.metadata.correlationId).toBe('request-1');
    expect(added!.metadata.causationId).not.toBe(opened!.metadata.causationId);
    await store.close();
  });

  it('a projection keeps a read model up to date from the global log', async () => {
    const store = new InMemoryEventStore({ events: cartEvents });
    const container = rootContainer.createChildContainer();
    const { bus } = registerAnnals(container, { store, handlers: [OpenCartHandler, AddItemHandler] });
    const { cartId } = await bus.execute(OpenCart, { customerId: 'alice' });
    await bus.execute(AddItem, { cartId, sku: 'apple', quantity: 3 });
    // #region projection
    const itemsPerCart = new Map<string, number>(); // the read model: here a Map, usually a table

    const CartSizes = defineProjection({
      name: 'cart-sizes',
      events: [CartOpened, ItemAdded],
      handlers: {
        CartOpened: (e) => {
          itemsPerCart.set(e.data.cartId, 0);
        },
        ItemAdded: (e) => {
          itemsPerCart.set(e.data.cartId, (itemsPerCart.get(e.data.cartId) ?? 0) + e.data.quantity);
        },
      },
    });

    const runner = new ProjectionRunner({ store, projections: [CartSizes] });
    await runner.start(); // catches up from its checkpoint, then follows new events live

    await bus.execute(AddItem, { cartId, sku: 'pear', quantity: 2 });
    await runner.waitUntilCaughtUp(); // the read model is eventually consistent: wait in tests and scripts
    console.log(itemsPerCart.get(cartId)); // 5
    console.log(runner.status('cart-sizes')?.state); // running
    await runner.stop();
    // #endregion projection
    expect(log.mock.calls).toEqual([[5], ['running']]);
    const status = runner.status('cart-sizes');
    const last = (await toArray(store.readAll())).at(-1)!;
    expect(status?.position).toBe(last.position);
    await store.close();
  });

  it('the same code runs on PostgreSQL: embedded PGlite with a data folder', async () => {
    // The snippet's relative `.data` folder goes to a temporary folder, never the working directory.
    const cwd = process.cwd();
    const scratch = mkdtempSync(join(tmpdir(), 'annals-getting-started-'));
    process.chdir(scratch);
    const container = rootContainer.createChildContainer();
    try {
      // #region postgres
      mkdirSync('.data', { recursive: true }); // PGlite creates its data folder, but not the folders above it
      const store = await PostgresEventStore.create(
        { pglite: '.data/cart-shop' }, // embedded PostgreSQL; for a server: { connectionString: 'postgres://…' }
        { events: cartEvents },
      );
      await store.migrate(); // creates the tables on the first run, a no-op afterwards

      const { bus, repositories } = registerAnnals(container, {
        store,
        handlers: [OpenCartHandler, AddItemHandler],
      });
      const { cartId } = await bus.execute(OpenCart, { customerId: 'alice' });
      await bus.execute(AddItem, { cartId, sku: 'apple', quantity: 3 });

      const cart = await repositories.get(Cart).load(cartId);
      console.log(cart.items); // { apple: 3 }
      // #endregion postgres

      // #region postgres-projection
      interface ReadModel {
        cart_sizes: { cart_id: string; items: number };
      }
      const db = store.kysely as Kysely<ReadModel>;
      await db.schema
        .createTable('cart_sizes')
        .ifNotExists()
        .addColumn('cart_id', 'text', (c) => c.primaryKey())
        .addColumn('items', 'integer', (c) => c.notNull())
        .execute();

      const CartSizesTable = defineProjection({
        name: 'cart-sizes',
        events: [CartOpened, ItemAdded],
        handlers: {
          // `tx` is the batch's transaction: these writes and the checkpoint commit together.
          CartOpened: async (e, { tx }: PostgresProjectionContext<ReadModel>) => {
            await tx.insertInto('cart_sizes').values({ cart_id: e.data.cartId, items: 0 }).execute();
          },
          ItemAdded: async (e, { tx }: PostgresProjectionContext<ReadModel>) => {
            await tx
              .updateTable('cart_sizes')
              .set((eb) => ({ items: eb('items', '+', e.data.quantity) }))
              .where('cart_id', '=', e.data.cartId)
              .execute();
          },
        },
        reset: async ({ tx }: PostgresProjectionContext<ReadModel>) => {
          await tx.deleteFrom('cart_sizes').execute(); // lets runner.rebuild('cart-sizes') start over
        },
      });

      const runner = new PostgresProjectionRunner({ store, projections: [CartSizesTable] });
      await runner.start();
      await runner.waitUntilCaughtUp();
      console.log(await db.selectFrom('cart_sizes').selectAll().execute()); // [{ cart_id: '019…', items: 3 }]

      await runner.stop();
      await store.close();
      // #endregion postgres-projection
      expect(log.mock.calls).toEqual([[{ apple: 3 }], [[{ cart_id: cartId, items: 3 }]]]);
      expect(store.capabilities.multiProcess).toBe(false);
    } finally {
      process.chdir(cwd);
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 300_000); // PGlite's first start runs initdb: seconds, minutes on a loaded machine; the bound only catches a hang // PGlite's first start runs initdb: seconds, more on a busy machine
});
