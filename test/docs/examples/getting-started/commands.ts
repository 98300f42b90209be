/** The commands of the cart and their handlers, from docs/getting-started/first-app.md. */
// #region commands
import {
  type CommandData,
  CommandHandler,
  defineCommand,
  type Handles,
  type Repository,
  uuidv7,
} from '@annals/core';
import { InjectRepository } from '@annals/core/tsyringe';
import { z } from 'zod';
import { Cart } from './cart.js';

export const OpenCart = defineCommand('OpenCart', z.object({ customerId: z.string().min(1) })).returns<{
  cartId: string;
}>();

export const AddItem = defineCommand(
  'AddItem',
  z.object({ cartId: z.string(), sku: z.string().min(1), quantity: z.number().int().positive() }),
);

@CommandHandler(OpenCart)
export class OpenCartHandler implements Handles<typeof OpenCart> {
  constructor(@InjectRepository(Cart) private readonly carts: Repository<Cart>) {}

  async execute({ customerId }: CommandData<typeof OpenCart>) {
    const cart = Cart.open(uuidv7(), customerId);
    await this.carts.save(cart);
    return { cartId: cart.id };
  }
}

@CommandHandler(AddItem)
export class AddItemHandler implements Handles<typeof AddItem> {
  constructor(@InjectRepository(Cart) private readonly carts: Repository<Cart>) {}

  async execute({ cartId, sku, quantity }: CommandData<typeof AddItem>) {
    const cart = await this.carts.load(cartId); // AggregateNotFound when there is no such cart
    cart.addItem(sku, quantity); // CartRuleViolated when the cart is checked out
    await this.carts.save(cart); // ConcurrencyConflict when someone saved the cart in between
  }
}
// #endregion commands
