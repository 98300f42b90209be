import { injectWithTransform } from 'tsyringe';
import { aggregateDefinition } from '../aggregate/aggregate-metadata.js';
import type { AggregateRoot } from '../aggregate/aggregate-root.js';
import { assertLegacyDecorator, DecoratorsNotConfigured } from '../decorators/decorator-setup.js';
import type { Repositories } from '../repository/repositories.js';
import type { AggregateClass, Repository } from '../repository/repository.js';
import { AnnalsTokens } from './tokens.js';

/** @internal tsyringe transform: the registered `Repositories` -> the repository of one aggregate class. */
class RepositoryOf {
  transform(repositories: Repositories, aggregate: AggregateClass): Repository<AggregateRoot> {
    return repositories.get(aggregate);
  }
}

/**
 * Constructor parameter decorator: injects the `Repository` of `aggregate` from the `Repositories`
 * that `registerAnnals` registered. Uses an explicit token, so it works without emitted decorator
 * metadata (esbuild, tsx).
 *
 * @example
 * ```ts
 * constructor(@InjectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}
 * ```
 */
export function InjectRepository<T extends AggregateRoot>(
  aggregate: AggregateClass<T>,
): (target: any, propertyKey: string | symbol | undefined, parameterIndex: number) => any {
  const { type } = aggregateDefinition(aggregate);
  const inject = injectWithTransform(AnnalsTokens.Repositories, RepositoryOf, aggregate);
  return (target, propertyKey, parameterIndex) => {
    const decorator = `@InjectRepository(${type})`;
    assertLegacyDecorator(decorator, propertyKey);
    const reflect = Reflect as unknown as { defineMetadata?: unknown; getMetadata?: unknown };
    if (typeof reflect.defineMetadata !== 'function' || typeof reflect.getMetadata !== 'function') {
      throw new DecoratorsNotConfigured(
        decorator,
        'found no Reflect.getMetadata: the reflect-metadata polyfill is not loaded',
      );
    }
    return inject(target, propertyKey, parameterIndex);
  };
}
