import { describe, expect, it } from 'vitest';
import { closestName } from './closest-name.js';
import { UnknownEventType } from './store-errors.js';

describe('closestName', () => {
  const types = ['ItemAdded', 'ItemRemoved', 'CartCheckedOut'];

  it('suggests the defined name a typo is closest to: swapped, missing, extra or wrong letters, any case', () => {
    expect(closestName('ItmeAdded', types)).toBe('ItemAdded');
    expect(closestName('ItemAded', types)).toBe('ItemAdded');
    expect(closestName('ItemsAdded', types)).toBe('ItemAdded');
    expect(closestName('ItemRemovd', types)).toBe('ItemRemoved');
    expect(closestName('itemadded', types)).toBe('ItemAdded');
    expect(closestName('CartCheckedOUT', types)).toBe('CartCheckedOut');
  });

  it('suggests nothing when no name is near', () => {
    expect(closestName('MoneyDeposited', types)).toBeUndefined();
    expect(closestName('A', ['B'])).toBeUndefined();
    expect(closestName('Note', types)).toBeUndefined();
    expect(closestName('ItemAdded', [])).toBeUndefined();
  });
});

describe('UnknownEventType', () => {
  it('names the type, suggests the closest defined one, lists the known ones and says how to accept it', () => {
    const error = new UnknownEventType('ItmeAdded', ['ItemAdded', 'ItemRemoved']);
    expect(error.code).toBe('UNKNOWN_EVENT_TYPE');
    expect(error.suggestion).toBe('ItemAdded');
    expect(error.message).toBe(
      'Event type ItmeAdded is not defined. Did you mean ItemAdded? This store knows ItemAdded, ItemRemoved; define the type, or create the store with strict: false to store undefined types as plain JSON.',
    );
    const far = new UnknownEventType('Note', ['ItemAdded']);
    expect(far.suggestion).toBeUndefined();
    expect(far.message).not.toContain('Did you mean');
  });
});
