import { AggregateSpec } from '@annals/testing';
import { describe, expect, it } from 'vitest';
import { TaskAdded, TaskCompleted, taskEvents, upcasters } from '../src/domain/events.js';
import { Task, TaskRuleViolated } from '../src/domain/task.js';

const spec = () => AggregateSpec.for(Task, { id: 't-1', events: taskEvents, upcasters });
const added = TaskAdded.create({ taskId: 't-1', title: 'Write tests', priority: 'high' });

describe('Task', () => {
  it('is added with a title and a priority', async () => {
    await spec()
      .when((task) => task.add('Write tests', 'high'))
      .then([added]);
  });

  it('is completed once', async () => {
    await spec()
      .given([added])
      .when((task) => task.complete())
      .then([TaskCompleted.create({ taskId: 't-1' })]);
  });

  it('completing a completed task changes nothing', async () => {
    await spec()
      .given([added, TaskCompleted.create({ taskId: 't-1' })])
      .when((task) => task.complete())
      .thenNothingHappened();
  });

  it('refuses to complete a task that was never added', async () => {
    const error = await spec()
      .when((task) => task.complete())
      .thenThrows(TaskRuleViolated);
    expect(error.message).toBe('Task t-1 does not exist.');
  });

  it('reads a task stored at version 1 with a normal priority', async () => {
    const v1 = { type: 'TaskAdded', schemaVersion: 1, data: { taskId: 't-1', title: 'Old' } };
    const { aggregate } = await spec()
      .given([v1])
      .when((task) => task.complete())
      .then([TaskCompleted.create({ taskId: 't-1' })]);
    expect(aggregate.priority).toBe('normal');
  });
});
