import type { TaskConsensus, TaskType } from '@tally/campaigns';

/** A task's consensus in the shape of an answer, to compare answers with it. */
export function consensusAsAnswer(taskType: TaskType, c: TaskConsensus | null): unknown {
  if (!c) return null;
  if (taskType === 'single-label') return { label: c.label };
  if (taskType === 'multi-label') return { labels: c.label };
  return c.label;
}
