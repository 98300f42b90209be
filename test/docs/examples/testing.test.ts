/**
 * The examples of docs/guides/testing.md, on the cart of docs/getting-started/first-app.md. The specs shown on the
 * page are the tests below; the last block proves that the kits fail when they should.
 */
import { AggregateNotFound, CommandValidationFailed, defineProjection } from '@annals/core';
import {
  AggregateSpec,
  CommandSpec,
  expectGoldenSamplesValid,
  ProjectionSpec,
  verifyGoldenSamples,
} from '@annals/testing';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { Cart, CartRuleViolated } from './getting-started/cart.js';
import { AddItem, AddItemHandler, OpenCartHandler } from './getting-started/commands.js';
import { CartCheckedOut, CartOpened, cartEvents, ItemAdded } from './getting-started/events.js';

// #region fixtures
// Events reused by several specs.
const opened = CartOpened.create({ cartId: 'c-1', customerId: 'alice' });
const apples = ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 3 });
const checkedOut = CartCheckedOut.create({ cartId: 'c-1' });
// #endregion fixtures

describe('Cart (docs/guides/testing.md: aggregate specs)', () => {
  // #region aggregate-spec
  it('adds an item to an open cart', async () => {
    await AggregateSpec.for(Cart, { id: 'c-1' })
      .given([CartOpened.create({ cartId: 'c-1', customerId: 'alice' })])
      .when((cart) => cart.addItem('apple', 3))
      .then([ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 3 })]);
  });

  it('refuses items once the cart is checked out', async () => {
    const error = await AggregateSpec.for(Cart, { id: 'c-1' })
      .given([opened, apples, checkedOut])
      .when((cart) => cart.addItem('pear', 1))
      .thenThrows(CartRuleViolated);
    expect(error.message).toBe('Cart c-1 is checked out; nothing can be added.');
  });

  it('checking out a checked-out cart changes nothing', async () => {
    await AggregateSpec.for(Cart, { id: 'c-1' })
      .given([opened, apples, checkedOut])
      .when((cart) => cart.checkOut())
      .thenNothingHappened();
  });
  // #endregion aggregate-spec

  it('then() also hands back the aggregate, for checks on its state', async () => {
    // #region aggregate-spec-state
    const { aggregate } = await AggregateSpec.for(Cart, { id: 'c-1' })
      .given([opened, apples])
      .when((cart) => cart.addItem('apple', 2))
      .then([ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 2 })]);
    expect(aggregate.items).toEqual({ apple: 5 });
    // #endregion aggregate-spec-state
  });
});

describe('AddItem (docs/guides/testing.md: command specs)', () => {
  // #region command-spec
  const spec = CommandSpec.for({
    events: cartEvents,
    container, // handler classes are resolved through a child of it, wired by registerAnnals
    handlers: [OpenCartHandler, AddItemHandler],
  });

  it('appends ItemAdded to the cart stream', async () => {
    await spec
      .given(Cart, 'c-1', [CartOpened.create({ cartId: 'c-1', customerId: 'alice' })])
      .when(AddItem, { cartId: 'c-1', sku: 'apple', quantity: 3 })
      .then([{ streamId: 'Cart-c-1', ...ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 3 }) }]);
  });

  it('fails for a cart that does not exist', async () => {
    await spec.when(AddItem, { cartId: 'nope', sku: 'apple', quantity: 3 }).thenThrows(AggregateNotFound);
  });

  it('is refused by validation before any handler runs', async () => {
    const error = await spec
      .when(AddItem, { cartId: 'c-1', sku: '', quantity: 0 })
      .thenThrows(CommandValidationFailed);
    expect(error.issues.map((i) => i.path.join('.'))).toEqual(['sku', 'quantity']);
  });
  // #endregion command-spec

  it('then() returns the stored events, with the metadata the bus stamped', async () => {
    // #region command-spec-metadata
    const { events } = await spec
      .given(Cart, 'c-1', [opened])
      .when(AddItem, { cartId: 'c-1', sku: 'apple', quantity: 3 }, { correlationId: 'request-1' })
      .then([apples]);
    expect(events[0]?.metadata.correlationId).toBe('request-1');
    // #endregion command-spec-metadata
  });
});

// #region projection
/** The read model, handed to the handlers as their context: any object you can inspect. */
interface CartSizesModel {
  readonly sizes: Record<string, number>;
}

const CartSizes = defineProjection({
  name: 'cart-sizes',
  events: [CartOpened, ItemAdded],
  handlers: {
    CartOpened: (e, { sizes }: CartSizesModel) => {
      sizes[e.data.cartId] = 0;
    },
    ItemAdded: (e, { sizes }: CartSizesModel) => {
      if (!(e.data.cartId in sizes)) throw new Error(`cart ${e.data.cartId} was never opened`);
      sizes[e.data.cartId] = (sizes[e.data.cartId] ?? 0) + e.data.quantity;
    },
  },
});
// #endregion projection

describe('CartSizes (docs/guides/testing.md: projection specs)', () => {
  // #region projection-spec
  const spec = () =>
    ProjectionSpec.for(CartSizes, {
      events: cartEvents,
      context: (): CartSizesModel => ({ sizes: {} }), // a fresh read model per scenario
      state: (model) => model.sizes, // what then() compares
    });

  it('counts the items of each cart', async () => {
    await spec()
      .given([
        { streamId: 'Cart-c-1', ...CartOpened.create({ cartId: 'c-1', customerId: 'alice' }) },
        { streamId: 'Cart-c-2', ...CartOpened.create({ cartId: 'c-2', customerId: 'bob' }) },
        { streamId: 'Cart-c-1', ...ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 3 }) },
        { streamId: 'Cart-c-1', ...ItemAdded.create({ cartId: 'c-1', sku: 'pear', quantity: 2 }) },
      ])
      .then({ 'c-1': 5, 'c-2': 0 });
  });

  it('fails on an item for a cart it never saw opened', async () => {
    const failure = await spec()
      .given([{ streamId: 'Cart-c-9', ...ItemAdded.create({ cartId: 'c-9', sku: 'apple', quantity: 1 }) }])
      .thenFails('cart c-9 was never opened');
    expect(failure.event?.streamId).toBe('Cart-c-9');
  });
  // #endregion projection-spec

  it('then() fails when the read model differs', async () => {
    await expect(
      spec()
        .given([{ streamId: 'Cart-c-1', ...opened }])
        .then({ 'c-1': 1 }),
    ).rejects.toThrow();
  });
});

describe('golden samples (docs/guides/testing.md)', () => {
  it('every stored example of a cart event still reads as a valid current event', async () => {
    // #region golden-samples
    await expectGoldenSamplesValid({
      dir: new URL('./golden', import.meta.url), // golden/<EventType>/v<version>.json
      events: cartEvents,
      require: 'current', // every type must have a sample of the version written today
    });
    // #endregion golden-samples
  });
});

describe('the kits fail when the behaviour differs (what docs/guides/testing.md promises)', () => {
  it('then() fails on other events, and on a throw', async () => {
    await expect(
      AggregateSpec.for(Cart, { id: 'c-1' })
        .given([opened])
        .when((cart) => cart.addItem('apple', 3))
        .then([ItemAdded.create({ cartId: 'c-1', sku: 'apple', quantity: 4 })]),
    ).rejects.toThrow();
    await expect(
      AggregateSpec.for(Cart, { id: 'c-1' })
        .given([opened, checkedOut])
        .when((cart) => cart.addItem('apple', 3))
        .then([apples]),
    ).rejects.toThrow(/expected when\(\) to raise 1 event\(s\), but it threw CartRuleViolated/);
  });

  it('thenThrows() fails when the action succeeds, and thenNothingHappened() when it raises', async () => {
    await expect(
      AggregateSpec.for(Cart, { id: 'c-1' })
        .given([opened])
        .when((cart) => cart.addItem('apple', 3))
        .thenThrows(CartRuleViolated),
    ).rejects.toThrow(/expected when\(\) to throw CartRuleViolated, but it raised ItemAdded/);
    await expect(
      AggregateSpec.for(Cart, { id: 'c-1' })
        .given([opened, apples])
        .when((cart) => cart.checkOut())
        .thenNothingHappened(),
    ).rejects.toThrow(/expected nothing to happen, but when\(\) raised CartCheckedOut/);
  });

  it('a command spec fails when the command appends other events', async () => {
    const spec = CommandSpec.for({ events: cartEvents, container, handlers: [AddItemHandler] });
    await expect(
      spec
        .given(Cart, 'c-1', [opened])
        .when(AddItem, { cartId: 'c-1', sku: 'apple', quantity: 3 })
        .then([{ streamId: 'Cart-c-2', ...apples }]),
    ).rejects.toThrow();
  });

  it('a golden sample that no longer matches its schema is reported', async () => {
    const report = await verifyGoldenSamples({
      dir: new URL('./golden', import.meta.url),
      events: [
        CartOpened,
        CartCheckedOut,
        { ...ItemAdded, schema: ItemAdded.schema.extend({ price: ItemAdded.schema.shape.quantity }) },
      ],
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.stringMatching(/^ItemAdded\/v1\.json: .*price/)]);
  });
});
