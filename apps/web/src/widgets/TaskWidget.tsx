import { BoxesWidget } from './BoxesWidget';
import { LabelWidget } from './LabelWidget';
import { SpansWidget } from './SpansWidget';
import { TextWidget } from './TextWidget';
import { Answer, Box, Payload, Span, TaskType } from './types';

export interface TaskWidgetProps {
  taskType: TaskType;
  labels: string[];
  payload: Payload;
  value: Answer | null;
  onChange(a: Answer): void;
  onSubmit?(): void;
  keys?: boolean;
  maxTextLength?: number;
}

/** The labeling widget for a task type; the worker's task page and the requester's preview share it. */
export function TaskWidget(p: TaskWidgetProps) {
  const common = { labels: p.labels, payload: p.payload, onSubmit: p.onSubmit, keys: p.keys };
  switch (p.taskType) {
    case 'single-label':
    case 'multi-label':
      return <LabelWidget {...common} multi={p.taskType === 'multi-label'} value={p.value as { label: string } | { labels: string[] } | null} onChange={(a) => a && p.onChange(a)} />;
    case 'boxes':
      return <BoxesWidget {...common} value={p.value as { boxes: Box[] }} onChange={p.onChange} />;
    case 'spans':
      return <SpansWidget {...common} value={p.value as { spans: Span[] }} onChange={p.onChange} />;
    case 'text':
      return <TextWidget {...common} maxLength={p.maxTextLength} value={p.value as { text: string }} onChange={p.onChange} />;
    default:
      return <p className="error">Unknown task type {String(p.taskType)}</p>;
  }
}
