import { Aggregate, AggregateRoot, Apply } from '@annals/core';
import { type Added, TaskAdded, TaskCompleted } from './events.js';

/** A rule of a task was broken. Domain errors are plain classes, thrown before any event is raised. */
export class TaskRuleViolated extends Error {
  override name = 'TaskRuleViolated';
}

/** A task: added once, completed once. State changes only in the `@Apply` handlers. */
@Aggregate('Task')
export class Task extends AggregateRoot {
  title = '';
  priority: Added['priority'] = 'normal';
  added = false;
  done = false;

  add(title: string, priority: Added['priority']) {
    if (this.added) throw new TaskRuleViolated(`Task ${this.id} already exists.`);
    this.raise(TaskAdded, { taskId: this.id, title, priority });
  }

  complete() {
    if (!this.added) throw new TaskRuleViolated(`Task ${this.id} does not exist.`);
    if (this.done) return; // completing twice changes nothing
    this.raise(TaskCompleted, { taskId: this.id });
  }

  @Apply(TaskAdded)
  protected onAdded(e: Added) {
    this.added = true;
    this.title = e.title;
    this.priority = e.priority;
  }

  @Apply(TaskCompleted)
  protected onCompleted() {
    this.done = true;
  }
}
