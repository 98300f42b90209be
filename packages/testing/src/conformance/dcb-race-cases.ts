import {
  type AppendCondition,
  buildDecisionModel,
  isAppendConditionFailed,
  matchesQuery,
  type RecordedEvent,
} from '@annals/core';
import { expect } from 'vitest';
import { toArray } from './collect.js';
import type { ConformanceCase } from './conformance-types.js';
import {
  CourseDefined,
  courseCapacity,
  courseSubscriptions,
  createDcbStore,
  StudentSubscribed,
  studentSubscriptions,
  withConditions,
} from './dcb-events.js';

const COURSES = 3;
const CAPACITY = 3;
const MAX_COURSES = 2;

type Outcome =
  | { readonly kind: 'subscribed' | 'full' | 'limit' }
  | { readonly kind: 'refused'; readonly condition: AppendCondition };

/**
 * The concurrency oracle: `racers` decisions run at once, each subscribing one student to one course
 * (3 courses of capacity 3, each student at most 2 courses, so the conditions overlap partly: by
 * course and by student). Checked afterwards: replayed in log order, every stored subscription was
 * allowed when it was appended (the committed set is one the rules allow, in the order readers see);
 * every refused append's query matches an event after its `after` (it saw a real conflict); and no
 * decision is lost (each racer either wrote, decided no, or was refused).
 */
export function dcbRaceCase(racers: number): ConformanceCase {
  return {
    group: 'append conditions under concurrency',
    requires: withConditions,
    name: `${racers} racers with partly overlapping conditions: the committed set obeys the rules in log order, and every refusal saw a real conflict`,
    async run(ctx) {
      const store = await createDcbStore(ctx);
      for (let c = 1; c <= COURSES; c++) {
        await store.append(`course-c${c}`, [CourseDefined.create({ courseId: `c${c}`, capacity: CAPACITY })]);
      }
      const race = async (i: number): Promise<Outcome> => {
        const courseId = `c${(i % COURSES) + 1}`;
        const studentId = `s${Math.floor(i / COURSES) % Math.max(1, Math.ceil(racers / (COURSES * 2)))}`;
        const { state, condition } = await buildDecisionModel(store, {
          capacity: courseCapacity(courseId),
          course: courseSubscriptions(courseId),
          student: studentSubscriptions(studentId),
        });
        if (state.course >= state.capacity!) return { kind: 'full' };
        if (state.student >= MAX_COURSES) return { kind: 'limit' };
        try {
          await store.append(
            `sub-${courseId}-${studentId}-${i}`,
            [StudentSubscribed.create({ courseId, studentId })],
            {
              condition,
            },
          );
          return { kind: 'subscribed' };
        } catch (error) {
          if (isAppendConditionFailed(error)) return { kind: 'refused', condition };
          throw error;
        }
      };
      const outcomes = await Promise.all(Array.from({ length: racers }, (_, i) => race(i)));
      const log = await toArray(store.readAll());
      const subscriptions = log.filter((e) => e.type === 'StudentSubscribed');
      expect(subscriptions).toHaveLength(outcomes.filter((o) => o.kind === 'subscribed').length);
      expect(subscriptions.length).toBeGreaterThan(0);

      // Replayed in log order, each subscription was allowed when it was appended.
      const perCourse = new Map<string, number>();
      const perStudent = new Map<string, number>();
      for (const event of subscriptions) {
        const { courseId, studentId } = event.data as { courseId: string; studentId: string };
        const course = perCourse.get(courseId) ?? 0;
        const student = perStudent.get(studentId) ?? 0;
        expect(course, `course ${courseId} over capacity at position ${event.position}`).toBeLessThan(
          CAPACITY,
        );
        expect(student, `student ${studentId} over the limit at position ${event.position}`).toBeLessThan(
          MAX_COURSES,
        );
        perCourse.set(courseId, course + 1);
        perStudent.set(studentId, student + 1);
      }

      // Every refusal saw a real conflict: an event its query matches lies after its `after`.
      for (const outcome of outcomes) {
        if (outcome.kind !== 'refused') continue;
        const { failIfEventsMatch: query, after } = outcome.condition;
        const conflict = log.find(
          (e: RecordedEvent) => (after === undefined || e.position > BigInt(after)) && matchesQuery(query, e),
        );
        expect(conflict, `a refusal without a conflicting event: ${JSON.stringify(query)}`).toBeDefined();
      }
    },
  };
}

/** The oracle with a racer count small enough for every run of the suite. */
export const dcbRaceCases: readonly ConformanceCase[] = [dcbRaceCase(18)];
