/** The cart aggregate of docs/getting-started/first-app.md. */
// #region aggregate
import { Aggregate, AggregateRoot, Apply, type EventData } from '@annals/core';
import { CartCheckedOut, CartOpened, ItemAdded } from './events.js';

/** A rule of the cart was broken. Domain errors are yours: plain classes, thrown before any event. */
export class CartRuleViolated extends Error {
  override readonly name = 'CartRuleViolated';
}

@Aggregate('Cart')
export class Cart extends AggregateRoot {
  customerId = '';
  items: Record<string, number> = {};
  checkedOut = false;

  static open(cartId: string, customerId: string): Cart {
    const cart = new Cart(cartId);
    cart.raise(CartOpened, { cartId, customerId });
    return cart;
  }

  addItem(sku: string, quantity: number): void {
    if (this.checkedOut) throw new CartRuleViolated(`Cart ${this.id} is checked out; nothing can be added.`);
    this.raise(ItemAdded, { cartId: this.id, sku, quantity });
  }

  checkOut(): void {
    if (Object.keys(this.items).length === 0) throw new CartRuleViolated(`Cart ${this.id} is empty.`);
    if (!this.checkedOut) this.raise(CartCheckedOut, { cartId: this.id });
  }

  // State changes only here, so replaying the stored events rebuilds exactly this state.
  @Apply(CartOpened)
  protected onOpened(e: EventData<typeof CartOpened>): void {
    this.customerId = e.customerId;
  }

  @Apply(ItemAdded)
  protected onItemAdded(e: EventData<typeof ItemAdded>): void {
    this.items[e.sku] = (this.items[e.sku] ?? 0) + e.quantity;
  }

  @Apply(CartCheckedOut)
  protected onCheckedOut(): void {
    this.checkedOut = true;
  }
}
// #endregion aggregate
