import { EventRegistry, isAnnalsError, type RecordedEvent } from '@annals/core';
import type { Command } from 'commander';
import { CommandExit } from '../errors.js';
import { EXIT_CODES } from '../exit-codes.js';
import { toJson, writeLine } from '../output.js';
import { withSession } from '../session.js';
import { runVerifyChain, type VerifyChainCliOptions } from './verify-chain.js';

/** An event that no longer reads, and why. */
interface Unreadable {
  readonly position: string;
  readonly streamId: string;
  readonly revision: string;
  readonly id: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly code: string;
  readonly error: string;
}

/** `annals verify [--json]`, and `annals verify --chain --public-key <file>` (./verify-chain.ts). */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      "read every stored event through the config's definitions and upcasters; report each that no longer reads (exit 5 if any)",
    )
    .option('--json', 'print one JSON object per unreadable event, then a summary object')
    .option('--limit <n>', 'stop reporting after this many (the count goes on)', Number)
    .option('--chain', 'instead: check the hash chain and its signed checkpoints (exit 5 at the first break)')
    .option('--public-key <file>', 'with --chain: Ed25519 public key (PEM); repeat for rotated keys', collect)
    .option('--checkpoints <file>', 'with --chain: published checkpoints, one JSON object a line')
    .action(
      async (
        options: { json?: boolean; limit?: number; chain?: boolean } & VerifyChainCliOptions,
        command: Command,
      ) => {
        if (options.chain === true) return runVerifyChain(options, command);
        // The log is read as stored; each event is then decoded by the config's registry, so one
        // unreadable event does not end the read.
        await withSession(command, { config: 'required', definitions: false }, async ({ store, config }) => {
          const registry = EventRegistry.from(
            (config!.config.store ?? {}) as Parameters<typeof EventRegistry.from>[0],
          );
          let checked = 0;
          let failed = 0;
          const undefinedTypes = new Map<string, number>();
          for await (const stored of store.readAll()) {
            checked++;
            const problem = check(registry, stored);
            if (problem === 'undefined-type') {
              undefinedTypes.set(stored.type, (undefinedTypes.get(stored.type) ?? 0) + 1);
              continue;
            }
            if (problem === undefined) continue;
            failed++;
            if (options.limit !== undefined && failed > options.limit) continue;
            const entry: Unreadable = {
              position: stored.position.toString(),
              streamId: stored.streamId,
              revision: stored.revision.toString(),
              id: stored.id,
              type: stored.type,
              schemaVersion: stored.schemaVersion,
              ...problem,
            };
            await writeLine(
              options.json === true
                ? toJson(entry)
                : `#${entry.position} ${entry.streamId}@${entry.revision} ${entry.type} v${entry.schemaVersion} ${entry.id}: ${entry.code}: ${entry.error}`,
            );
          }
          const summary = { checked, unreadable: failed, undefinedTypes: Object.fromEntries(undefinedTypes) };
          if (options.json === true) await writeLine(toJson(summary));
          else {
            await writeLine(
              `checked ${checked} event(s): ${failed === 0 ? 'all read' : `${failed} no longer read`}`,
            );
            for (const [type, n] of undefinedTypes) {
              await writeLine(
                `note: ${n} event(s) of type ${type}, which no definition has (read as plain JSON)`,
              );
            }
          }
          if (failed > 0) throw new CommandExit(EXIT_CODES.checkFailed);
        });
      },
    );
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Decodes `stored` as the application would read it (upcast, then validated). An event stored at
 * the current version is validated against its schema too: decoding trusts it (it was validated on
 * append), but the schema may have changed since without a new version.
 */
function check(
  registry: EventRegistry,
  stored: RecordedEvent,
): { code: string; error: string } | 'undefined-type' | undefined {
  try {
    const target = registry.upcastTarget(stored.type, stored.schemaVersion);
    const decoded = registry.decode(stored);
    const definition = registry.definition(target.type);
    if (definition === undefined) return 'undefined-type';
    if (stored.type === target.type && stored.schemaVersion === definition.version) {
      const result = definition.schema.safeParse(stored.data);
      if (!result.success) {
        const issues = result.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        return {
          code: 'EVENT_VALIDATION_FAILED',
          error: `stored at the current v${definition.version}, but its schema no longer accepts it: ${issues}`,
        };
      }
    }
    void decoded;
    return undefined;
  } catch (error) {
    return {
      code: isAnnalsError(error) ? error.code : 'ERROR',
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
