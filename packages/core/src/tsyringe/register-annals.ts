import { type DependencyContainer, injectable } from 'tsyringe';
import {
  CommandBus,
  type CommandMiddleware,
  type HandlerRegistration,
  type HandlerResolver,
} from '../command/command-bus.js';
import { Repositories } from '../repository/repositories.js';
import type { RepositoryOptions } from '../repository/repository.js';
import type { SnapshotStore } from '../snapshot/snapshot-store.js';
import type { EventStore } from '../store/event-store.js';
import { AnnalsTokens } from './tokens.js';

/** Options of {@link registerAnnals}. */
export interface AnnalsOptions extends RepositoryOptions {
  /** `@CommandHandler` classes (resolved through the container) or instances. */
  readonly handlers?: readonly HandlerRegistration[];
  /** Bus middleware, outermost first. */
  readonly middleware?: readonly CommandMiddleware[];
}

/** What {@link registerAnnals} registered. */
export interface Annals {
  readonly store: EventStore;
  readonly snapshotStore: SnapshotStore | undefined;
  readonly repositories: Repositories;
  readonly bus: CommandBus;
}

/**
 * Registers the Annals defaults in a tsyringe container: the event store, the snapshot store (when
 * snapshots are on), a {@link Repositories} registry (what `@InjectRepository` reads) and a
 * {@link CommandBus} that resolves handler classes through this container (each `@CommandHandler`
 * class is made `@injectable()` on its first resolution). Each is registered under
 * its {@link AnnalsTokens} token and, for `Repositories` and `CommandBus`, under its class.
 * Registering two handlers for one command fails here, at start-up.
 *
 * @example
 * ```ts
 * const { bus } = registerAnnals(container, { store, snapshots: { every: 100 }, handlers: [OpenAccountHandler, DepositHandler] });
 * await bus.execute(Deposit, { accountId: 'acc-1', amount: 100 });
 * ```
 */
export function registerAnnals(container: DependencyContainer, options: AnnalsOptions): Annals {
  const repositories = new Repositories(options);
  const bus = new CommandBus({
    container: injectingResolver(container),
    ...(options.handlers === undefined ? {} : { handlers: options.handlers }),
    ...(options.middleware === undefined ? {} : { middleware: options.middleware }),
  });
  container.register(AnnalsTokens.EventStore, { useValue: options.store });
  if (repositories.snapshotStore !== undefined) {
    container.register(AnnalsTokens.SnapshotStore, { useValue: repositories.snapshotStore });
  }
  container.register(AnnalsTokens.Repositories, { useValue: repositories });
  container.register(Repositories, { useValue: repositories });
  container.register(AnnalsTokens.CommandBus, { useValue: bus });
  container.register(CommandBus, { useValue: bus });
  return { store: options.store, snapshotStore: repositories.snapshotStore, repositories, bus };
}

/** Resolves handler classes through `container`, making each one tsyringe-injectable first. */
function injectingResolver(container: DependencyContainer): HandlerResolver {
  const injectables = new WeakSet<Function>();
  return {
    resolve(handler) {
      if (!injectables.has(handler)) {
        injectable()(handler);
        injectables.add(handler);
      }
      return container.resolve(handler);
    },
  };
}
