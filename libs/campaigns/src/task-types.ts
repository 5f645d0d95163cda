import type { FieldProblem } from '@tally/common';
import type { TaskType } from './entities/campaign.entity';

/**
 * What an item (task payload) and an answer look like for each task type, and their validation.
 * One definition serves the item import (payloads, gold answers, pre-labels) and the submit path.
 *
 * | type         | payload                                   | answer                                      |
 * |--------------|-------------------------------------------|---------------------------------------------|
 * | single-label | { text?, imageUrl?, ... } (one of them)    | { label }                                   |
 * | multi-label  | { text?, imageUrl?, ... } (one of them)    | { labels: [...] } (distinct, may be empty)  |
 * | boxes        | { imageUrl, width, height }               | { boxes: [{ x, y, w, h, label }] }          |
 * | spans        | { text }                                  | { spans: [{ start, end, label }] }          |
 * | text         | { text?, imageUrl?, ... } (one of them)    | { text } (1..maxTextLength characters)      |
 *
 * Box coordinates are pixels from the top-left corner; a box must lie inside the image and have a
 * positive size. Span offsets are UTF-16 code unit offsets into `text`, `end` exclusive; spans must
 * be ordered by start and must not overlap.
 */
export interface TaskTypeRules {
  taskType: TaskType;
  labels: string[];
  maxTextLength: number;
}

export const MAX_PAYLOAD_TEXT = 100_000;
export const MAX_BOXES = 200;
export const MAX_SPANS = 500;

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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Problems with an item's payload for this task type; empty when it is fine. */
export function validatePayload(rules: TaskTypeRules, payload: unknown, field = 'payload'): FieldProblem[] {
  if (!isObject(payload)) return [{ field, problem: 'must be an object' }];
  const p: FieldProblem[] = [];
  const text = payload.text;
  const imageUrl = payload.imageUrl;
  if (text !== undefined && (typeof text !== 'string' || text.length === 0 || text.length > MAX_PAYLOAD_TEXT)) {
    p.push({ field: `${field}.text`, problem: `must be a non-empty string of at most ${MAX_PAYLOAD_TEXT} characters` });
  }
  if (imageUrl !== undefined && !isHttpUrl(imageUrl)) p.push({ field: `${field}.imageUrl`, problem: 'must be an http(s) URL' });
  switch (rules.taskType) {
    case 'spans':
      if (text === undefined) p.push({ field: `${field}.text`, problem: 'is required for a spans task' });
      break;
    case 'boxes':
      if (imageUrl === undefined) p.push({ field: `${field}.imageUrl`, problem: 'is required for a boxes task' });
      for (const dim of ['width', 'height'] as const) {
        const v = payload[dim];
        if (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > 100_000) {
          p.push({ field: `${field}.${dim}`, problem: 'must be a positive integer (pixels)' });
        }
      }
      break;
    default:
      if (text === undefined && imageUrl === undefined) p.push({ field, problem: 'needs text or imageUrl' });
  }
  return p;
}

/** Problems with an answer to a task with this payload; empty when it is fine. */
export function validateAnswer(rules: TaskTypeRules, payload: Record<string, unknown>, answer: unknown, field = 'answer'): FieldProblem[] {
  if (!isObject(answer)) return [{ field, problem: 'must be an object' }];
  const allowed = ANSWER_KEYS[rules.taskType];
  const extra = Object.keys(answer).filter((k) => k !== allowed);
  const p: FieldProblem[] = extra.map((k) => ({ field: `${field}.${k}`, problem: `is not part of a ${rules.taskType} answer` }));
  const labelSet = new Set(rules.labels);
  switch (rules.taskType) {
    case 'single-label': {
      const l = answer.label;
      if (typeof l !== 'string') p.push({ field: `${field}.label`, problem: 'is required and must be a string' });
      else if (!labelSet.has(l)) p.push({ field: `${field}.label`, problem: `"${l}" is not in the label set` });
      break;
    }
    case 'multi-label': {
      const ls = answer.labels;
      if (!Array.isArray(ls)) {
        p.push({ field: `${field}.labels`, problem: 'is required and must be an array of labels' });
        break;
      }
      ls.forEach((l, i) => {
        if (typeof l !== 'string' || !labelSet.has(l)) p.push({ field: `${field}.labels[${i}]`, problem: `${JSON.stringify(l)} is not in the label set` });
      });
      if (new Set(ls).size !== ls.length) p.push({ field: `${field}.labels`, problem: 'must not repeat a label' });
      break;
    }
    case 'boxes': {
      const bs = answer.boxes;
      if (!Array.isArray(bs)) {
        p.push({ field: `${field}.boxes`, problem: 'is required and must be an array' });
        break;
      }
      if (bs.length > MAX_BOXES) p.push({ field: `${field}.boxes`, problem: `must have at most ${MAX_BOXES} boxes` });
      const W = payload.width as number;
      const H = payload.height as number;
      bs.slice(0, MAX_BOXES).forEach((b, i) => {
        const f = `${field}.boxes[${i}]`;
        if (!isObject(b)) return p.push({ field: f, problem: 'must be an object {x, y, w, h, label}' });
        const unknown = Object.keys(b).filter((k) => !['x', 'y', 'w', 'h', 'label'].includes(k));
        if (unknown.length) p.push({ field: f, problem: `unknown fields ${unknown.join(', ')}` });
        const { x, y, w, h, label } = b;
        if (![x, y, w, h].every(isFiniteNumber)) return p.push({ field: f, problem: 'x, y, w and h must be numbers' });
        const [nx, ny, nw, nh] = [x, y, w, h] as number[];
        if (nw <= 0 || nh <= 0) p.push({ field: f, problem: 'must have a positive width and height' });
        if (nx < 0 || ny < 0 || nx + nw > W || ny + nh > H) p.push({ field: f, problem: `must lie inside the ${W}×${H} image` });
        if (typeof label !== 'string' || !labelSet.has(label)) p.push({ field: `${f}.label`, problem: `${JSON.stringify(label)} is not a known class` });
      });
      break;
    }
    case 'spans': {
      const ss = answer.spans;
      if (!Array.isArray(ss)) {
        p.push({ field: `${field}.spans`, problem: 'is required and must be an array' });
        break;
      }
      if (ss.length > MAX_SPANS) p.push({ field: `${field}.spans`, problem: `must have at most ${MAX_SPANS} spans` });
      const len = (payload.text as string).length;
      let prevEnd = -1;
      ss.slice(0, MAX_SPANS).forEach((s, i) => {
        const f = `${field}.spans[${i}]`;
        if (!isObject(s)) return p.push({ field: f, problem: 'must be an object {start, end, label}' });
        const unknown = Object.keys(s).filter((k) => !['start', 'end', 'label'].includes(k));
        if (unknown.length) p.push({ field: f, problem: `unknown fields ${unknown.join(', ')}` });
        const { start, end, label } = s;
        if (!Number.isInteger(start) || !Number.isInteger(end)) return p.push({ field: f, problem: 'start and end must be integers' });
        const [a, b] = [start as number, end as number];
        if (a < 0 || b > len || a >= b) p.push({ field: f, problem: `must satisfy 0 ≤ start < end ≤ ${len} (the text's length)` });
        else if (a < prevEnd) p.push({ field: f, problem: 'overlaps or comes before the previous span (spans must be ordered and disjoint)' });
        prevEnd = Math.max(prevEnd, b);
        if (typeof label !== 'string' || !labelSet.has(label)) p.push({ field: `${f}.label`, problem: `${JSON.stringify(label)} is not a known entity type` });
      });
      break;
    }
    case 'text': {
      const t = answer.text;
      if (typeof t !== 'string' || t.trim().length === 0) p.push({ field: `${field}.text`, problem: 'is required and must not be blank' });
      else if (t.length > rules.maxTextLength) p.push({ field: `${field}.text`, problem: `must have at most ${rules.maxTextLength} characters` });
      break;
    }
  }
  return p;
}

const ANSWER_KEYS: Record<TaskType, string> = {
  'single-label': 'label',
  'multi-label': 'labels',
  boxes: 'boxes',
  spans: 'spans',
  text: 'text',
};

/** Whether a task type needs a label set (box classes and entity types count). */
export const needsLabels = (t: TaskType) => t !== 'text';

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 2048) return false;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
