import { type CommandData, CommandHandler, defineCommand, type Handles, type Repository } from '@annals/core';
import { InjectRepository } from '@annals/core/tsyringe';
import { z } from 'zod';
import { Priority } from '../domain/events.js';
import { Task } from '../domain/task.js';

export const AddTask = defineCommand(
  'AddTask',
  z.object({ taskId: z.string().min(1), title: z.string().min(1), priority: Priority.default('normal') }),
);

export const CompleteTask = defineCommand('CompleteTask', z.object({ taskId: z.string().min(1) }));

@CommandHandler(AddTask)
export class AddTaskHandler implements Handles<typeof AddTask> {
  constructor(@InjectRepository(Task) private readonly tasks: Repository<Task>) {}

  async execute(cmd: CommandData<typeof AddTask>) {
    const task = new Task(cmd.taskId);
    task.add(cmd.title, cmd.priority);
    await this.tasks.save(task);
  }
}

@CommandHandler(CompleteTask)
export class CompleteTaskHandler implements Handles<typeof CompleteTask> {
  constructor(@InjectRepository(Task) private readonly tasks: Repository<Task>) {}

  async execute(cmd: CommandData<typeof CompleteTask>) {
    const task = await this.tasks.load(cmd.taskId);
    task.complete();
    await this.tasks.save(task);
  }
}

/** Every command handler, for `registerAnnals`. */
export const taskHandlers = [AddTaskHandler, CompleteTaskHandler];
