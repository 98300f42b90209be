import 'reflect-metadata';
import { injectWithTransform } from 'tsyringe';
import { resolveAggregateDefinition } from '../aggregate/aggregate-metadata.js';
import type { AggregateRoot } from '../aggregate/aggregate-root.js';
import type { Repositories } from '../repository/repositories.js';
import type { AggregateClass, Repository } from '../repository/repository.js';
import { assertLegacyDecorator } from './decorator-setup.js';
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
 * constructor(@injectRepository(BankAccount) private readonly accounts: Repository<BankAccount>) {}
 * ```
 */
export function injectRepository<T extends AggregateRoot>(
  aggregate: AggregateClass<T>,
): (target: any, propertyKey: string | symbol | undefined, parameterIndex: number) => any {
  const { type } = resolveAggregateDefinition(aggregate);
  const inject = injectWithTransform(AnnalsTokens.Repositories, RepositoryOf, aggregate);
  return (target, propertyKey, parameterIndex) => {
    assertLegacyDecorator(`@injectRepository(${type})`, propertyKey);
    return inject(target, propertyKey, parameterIndex);
  };
}
