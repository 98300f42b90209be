import {
  buildDecisionModel,
  decisionProjection,
  defineEvent,
  type EventStore,
  type EventStoreCapabilities,
} from '@annals/core';
import { z } from 'zod';
import type { ConformanceContext } from './conformance-types.js';

// The events and decisions of the dcb.events examples, as the DCB conformance cases use them.

/** A course with its capacity. Tags: `course:<id>`. */
export const CourseDefined = defineEvent('CourseDefined', {
  schema: z.object({ courseId: z.string(), capacity: z.number().int().min(0) }),
  tags: (d) => [`course:${d.courseId}`],
});

/** A student took a place in a course. Tags: `course:<id>`, `student:<id>`. */
export const StudentSubscribed = defineEvent('StudentSubscribed', {
  schema: z.object({ courseId: z.string(), studentId: z.string() }),
  tags: (d) => [`course:${d.courseId}`, `student:${d.studentId}`],
});

/** An account took a username. Tags: `username:<name>`. */
export const AccountRegistered = defineEvent('AccountRegistered', {
  schema: z.object({ accountId: z.string(), username: z.string() }),
  tags: (d) => [`username:${d.username}`, `account:${d.accountId}`],
});

/** An account gave up its username. Tags: `username:<name>`. */
export const UsernameReleased = defineEvent('UsernameReleased', {
  schema: z.object({ accountId: z.string(), username: z.string() }),
  tags: (d) => [`username:${d.username}`, `account:${d.accountId}`],
});

/** An invoice with its number; numbers have no gaps. No tags: the rule spans every invoice. */
export const InvoiceCreated = defineEvent('InvoiceCreated', {
  schema: z.object({ invoiceNumber: z.number().int().min(1) }),
});

/** A sign-up asked for confirmation with a one-time token. Tags: `token:<token>`. */
export const OptInRequested = defineEvent('OptInRequested', {
  schema: z.object({ token: z.string(), email: z.string() }),
  tags: (d) => [`token:${d.token}`],
});

/** The token was used. Tags: `token:<token>`. */
export const OptInConfirmed = defineEvent('OptInConfirmed', {
  schema: z.object({ token: z.string() }),
  tags: (d) => [`token:${d.token}`],
});

/** Every event of the DCB cases. */
export const dcbEvents = [
  CourseDefined,
  StudentSubscribed,
  AccountRegistered,
  UsernameReleased,
  InvoiceCreated,
  OptInRequested,
  OptInConfirmed,
] as const;

/** Whether a store supports the DCB cases. */
export const withConditions = (capabilities: EventStoreCapabilities) =>
  capabilities.appendConditions === true;

/** A fresh store knowing {@link dcbEvents}, strict off (so cases may append untyped, tagged events). */
export function createDcbStore(context: ConformanceContext): Promise<EventStore> {
  return context.createStore({ events: dcbEvents, strict: false });
}

// #region course-subscription
/** The course's capacity (undefined until defined). */
export const courseCapacity = (courseId: string) =>
  decisionProjection<number | undefined>({
    query: { items: [{ types: ['CourseDefined'], tags: [`course:${courseId}`] }] },
    initialState: undefined,
    apply: (_state, event) => (event.data as { capacity: number }).capacity,
  });

/** How many students took a place in the course. */
export const courseSubscriptions = (courseId: string) =>
  decisionProjection({
    query: { items: [{ types: ['StudentSubscribed'], tags: [`course:${courseId}`] }] },
    initialState: 0,
    apply: (count) => count + 1,
  });

/** How many courses the student took. */
export const studentSubscriptions = (studentId: string) =>
  decisionProjection({
    query: { items: [{ types: ['StudentSubscribed'], tags: [`student:${studentId}`] }] },
    initialState: 0,
    apply: (count) => count + 1,
  });

/** The dcb.events course subscription: capacity per course, at most `maxCourses` per student. */
export async function subscribeStudent(
  store: EventStore,
  courseId: string,
  studentId: string,
  maxCourses: number,
): Promise<'subscribed' | 'course full' | 'student limit' | 'no course'> {
  const { state, condition } = await buildDecisionModel(store, {
    capacity: courseCapacity(courseId),
    course: courseSubscriptions(courseId),
    student: studentSubscriptions(studentId),
  });
  if (state.capacity === undefined) return 'no course';
  if (state.course >= state.capacity) return 'course full';
  if (state.student >= maxCourses) return 'student limit';
  await store.append(
    `subscription-${courseId}-${studentId}`,
    [StudentSubscribed.create({ courseId, studentId })],
    {
      condition,
    },
  );
  return 'subscribed';
}
// #endregion course-subscription
