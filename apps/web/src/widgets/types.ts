export type TaskType = 'single-label' | 'multi-label' | 'boxes' | 'spans' | 'text';
export const TASK_TYPES: { value: TaskType; name: string; hint: string }[] = [
  { value: 'single-label', name: 'Single label', hint: 'Pick one label per item (classification)' },
  { value: 'multi-label', name: 'Multi-label', hint: 'Pick any number of labels per item' },
  { value: 'boxes', name: 'Bounding boxes', hint: 'Draw boxes around objects on an image' },
  { value: 'spans', name: 'Entity spans', hint: 'Tag stretches of text with entity types' },
  { value: 'text', name: 'Free text', hint: 'Write a short text (transcription, caption, answer)' },
];

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
}
export interface Span {
  start: number;
  end: number;
  label: string;
}

export type Answer = { label: string } | { labels: string[] } | { boxes: Box[] } | { spans: Span[] } | { text: string };
export type Payload = Record<string, unknown> & { text?: string; imageUrl?: string; width?: number; height?: number };

export interface WidgetProps<A> {
  labels: string[];
  payload: Payload;
  value: A;
  onChange(a: A): void;
  /** Ask the page to submit (Enter on the label widgets, Ctrl+Enter in the text area). */
  onSubmit?(): void;
  /** Keyboard shortcuts are live (false in the requester's preview). */
  keys?: boolean;
}

export function emptyAnswer(t: TaskType): Answer | null {
  switch (t) {
    case 'single-label':
      return null;
    case 'multi-label':
      return { labels: [] };
    case 'boxes':
      return { boxes: [] };
    case 'spans':
      return { spans: [] };
    case 'text':
      return { text: '' };
  }
}

/** Whether an answer can be sent as it is (the server validates it fully). */
export function isComplete(t: TaskType, a: Answer | null): boolean {
  if (!a) return false;
  if (t === 'text') return (a as { text: string }).text.trim().length > 0;
  return true;
}
