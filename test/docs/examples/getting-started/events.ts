/** The events of the cart in docs/getting-started/first-app.md. */
// #region events
import { defineEvent } from '@annals/core';
import { z } from 'zod';

export const CartOpened = defineEvent('CartOpened', {
  schema: z.object({ cartId: z.string(), customerId: z.string() }),
});
export const ItemAdded = defineEvent('ItemAdded', {
  schema: z.object({ cartId: z.string(), sku: z.string(), quantity: z.number().int().positive() }),
});
export const CartCheckedOut = defineEvent('CartCheckedOut', {
  schema: z.object({ cartId: z.string() }),
});

/** Every event type of the cart, for the store's registry. */
export const cartEvents = [CartOpened, ItemAdded, CartCheckedOut];
// #endregion events
