import type { EventRegistry } from '../events/event-registry.js';
import type { Snapshot } from '../snapshot/snapshot-store.js';
import type { EventStore } from '../store/event-store.js';
import { envelopeFields, isEnvelope } from './envelope.js';
import { isForgotten } from './forgotten.js';
import type { PersonalDataCodec } from './personal-data-codec.js';
import { ForgottenSubjectRefused } from './personal-data-errors.js';

/**
 * Keeps snapshots of aggregates that hold personal data sealed: a repository tracks the subjects of
 * the events each aggregate applied, and the snapshot's state is sealed under each of their keys in
 * turn (nested envelopes). Forgetting any of them makes the snapshot unreadable: it is ignored and the
 * aggregate is replayed from its events, which read `FORGOTTEN`. A snapshot is never written in clear
 * for such an aggregate; none is written while one of its subjects is forgotten.
 */
export class SnapshotSeal {
  readonly #codec: PersonalDataCodec;
  readonly #subjects = new WeakMap<object, Set<string>>();

  private constructor(codec: PersonalDataCodec) {
    this.#codec = codec;
  }

  /** The seal for `store`'s snapshots, when its registry seals personal data. */
  static of(store: EventStore): SnapshotSeal | undefined {
    const codec = (store as { registry?: EventRegistry }).registry?.personalData;
    return codec?.enabled === true ? new SnapshotSeal(codec) : undefined;
  }

  /** Notes the subjects of an event `aggregate` applied or raised. */
  track(aggregate: object, event: { readonly type: string; readonly data: unknown }): void {
    if (!this.#codec.declares(event.type)) return;
    const subjects = this.#subjectsOf(aggregate);
    for (const subject of this.#codec.subjectsOf(event.type, event.data)) subjects.add(subject);
  }

  /** `snapshot` with its state sealed under the aggregate's subjects; undefined when one is forgotten. */
  async seal(aggregate: object, snapshot: Snapshot): Promise<Snapshot | undefined> {
    const subjects = [...this.#subjectsOf(aggregate)].sort();
    if (subjects.length === 0) return snapshot;
    let state = snapshot.state;
    try {
      for (const subject of subjects) {
        state = await this.#codec.sealValue(
          subject,
          state,
          `snapshot\u0000${snapshot.streamId}\u0000${snapshot.revision}`,
        );
      }
    } catch (error) {
      if (error instanceof ForgottenSubjectRefused) return undefined;
      throw error;
    }
    return { ...snapshot, state };
  }

  /** `snapshot` with its state opened (its subjects noted), or undefined when a subject was forgotten. */
  async open(aggregate: object, snapshot: Snapshot): Promise<Snapshot | undefined> {
    let state = snapshot.state;
    const subjects = this.#subjectsOf(aggregate);
    while (isEnvelope(state)) {
      subjects.add(envelopeFields(state).subject);
      const [opened] = await this.#codec.open([{ data: state }]);
      if (isForgotten(opened!.data)) return undefined;
      state = opened!.data;
    }
    return { ...snapshot, state };
  }

  #subjectsOf(aggregate: object): Set<string> {
    let subjects = this.#subjects.get(aggregate);
    if (subjects === undefined) this.#subjects.set(aggregate, (subjects = new Set()));
    return subjects;
  }
}
