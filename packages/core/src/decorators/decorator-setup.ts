import { AnnalsError } from '../errors/annals-error.js';

/** How to fix the setup, appended to every {@link DecoratorsNotConfigured} message. */
const FIX =
  'Annals decorators are TypeScript legacy decorators: set "experimentalDecorators": true in the ' +
  'tsconfig.json that compiles this code (tsx, vitest and esbuild read it too). With the tsyringe ' +
  'wiring (@annals/core/tsyringe), also set "emitDecoratorMetadata": true and import ' +
  "'reflect-metadata' once, before anything else, in your entry point and in your test setup file. " +
  'See docs/getting-started/installation.md, "tsconfig and reflect-metadata".';

/**
 * An Annals decorator (`@Aggregate`, `@Apply`, `@CommandHandler`, `@InjectRepository`) ran in a setup
 * it cannot work in: it was compiled as a TC39 standard decorator (the tsconfig lacks
 * `experimentalDecorators`), or (for `@InjectRepository`) the `reflect-metadata` polyfill is not
 * loaded. Raised on the first decorated class, before anything is registered.
 */
export class DecoratorsNotConfigured extends AnnalsError {
  /** The decorator that found the problem, e.g. `@Apply(MoneyDeposited)`. */
  readonly decorator: string;

  constructor(decorator: string, found: string) {
    super('DECORATORS_NOT_CONFIGURED', `${decorator} ${found}. ${FIX}`);
    this.decorator = decorator;
  }
}

/** The `context` a TC39 standard decorator receives as its second argument. */
function standardDecoratorKind(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kind = (value as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : undefined;
}

/**
 * @internal Throws {@link DecoratorsNotConfigured} when `second` (the decorator's second argument)
 * is a TC39 decorator context.
 */
export function assertLegacyDecorator(decorator: string, second: unknown): void {
  const kind = standardDecoratorKind(second);
  if (kind !== undefined) {
    throw new DecoratorsNotConfigured(
      decorator,
      `was compiled as a TC39 standard decorator (it received a context of kind '${kind}'), not as a legacy decorator`,
    );
  }
}
