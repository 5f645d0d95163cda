import type { FieldProblem } from '@tally/common';
import { TaskTypeRules, validateAnswer, validatePayload } from '../task-types';
import { contentHash } from './content-hash';
import type { RawRow } from './item-parsers';

/** A row that fits the campaign, ready to insert. */
export interface ImportItem {
  payload: Record<string, unknown>;
  gold: unknown;
  prelabel: unknown;
  /** The model that gave the pre-label, and its confidence (0..1); null when not given. */
  prelabelModel: string | null;
  prelabelConfidence: number | null;
  hash: string;
}

export type RowResult = { ok: true; item: ImportItem } | { ok: false; problems: FieldProblem[] };

const ANSWER_FIELDS = ['gold', 'prelabel'] as const;
const WRAPPED_FIELDS = new Set(['payload', 'gold', 'prelabel', 'prelabelModel', 'prelabelConfidence']);
/** Longest model name kept with a pre-label. */
export const MAX_MODEL_NAME = 100;
/** CSV cells are strings; these payload columns are numbers in every task type that has them. */
const NUMERIC_CSV_COLUMNS = ['width', 'height'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns one uploaded row into an item, or says exactly what is wrong with it. Two shapes:
 * - wrapped: `{"payload": {...}, "gold"?: answer, "prelabel"?: answer, "prelabelModel"?: name, "prelabelConfidence"?: 0..1}`;
 * - flat: the row is the payload, with optional `gold` / `prelabel` / `prelabelModel` /
 *   `prelabelConfidence` keys taken out of it (CSV is always flat: columns are payload fields).
 * The model name and confidence describe the pre-label, so they need one.
 * Problems name fields as the requester wrote them: `payload.text` for wrapped rows, `text` for
 * flat ones. Gold and pre-label are answers and are checked against the task type (a gold label
 * outside the label set would silently fail every worker).
 */
export function toImportItem(rules: TaskTypeRules, row: Extract<RawRow, { value: unknown }>): RowResult {
  const v = row.value;
  if (!isObject(v)) return { ok: false, problems: [{ field: 'row', problem: 'must be a JSON object' }] };
  const wrapped = 'payload' in v;
  let payload: Record<string, unknown>;
  let answers: Record<'gold' | 'prelabel', unknown>;
  let model: { name: unknown; confidence: unknown };
  const problems: FieldProblem[] = [];
  if (wrapped) {
    for (const k of Object.keys(v)) if (!WRAPPED_FIELDS.has(k)) problems.push({ field: k, problem: 'is not a row field (use payload, gold, prelabel, prelabelModel, prelabelConfidence)' });
    if (!isObject(v.payload)) return { ok: false, problems: [...problems, { field: 'payload', problem: 'must be an object' }] };
    payload = v.payload;
    answers = { gold: v.gold, prelabel: v.prelabel };
    model = { name: v.prelabelModel, confidence: v.prelabelConfidence };
  } else {
    const { gold, prelabel, prelabelModel, prelabelConfidence, ...rest } = v;
    payload = rest;
    answers = { gold, prelabel };
    model = { name: prelabelModel, confidence: prelabelConfidence };
  }
  if (row.csv) {
    // empty cells mean "not given"; a confidence cell is a number
    if (model.name === '') model.name = undefined;
    if (model.confidence === '') model.confidence = undefined;
    else if (typeof model.confidence === 'string' && /^\s*\d*\.?\d+\s*$/.test(model.confidence)) model.confidence = Number(model.confidence);
  }
  const modelName = model.name === undefined || model.name === null ? null : model.name;
  const modelConfidence = model.confidence === undefined || model.confidence === null ? null : model.confidence;
  if (modelName !== null && (typeof modelName !== 'string' || !modelName.trim() || modelName.length > MAX_MODEL_NAME)) {
    problems.push({ field: 'prelabelModel', problem: `must be a non-empty string of at most ${MAX_MODEL_NAME} characters` });
  }
  if (modelConfidence !== null && (typeof modelConfidence !== 'number' || !Number.isFinite(modelConfidence) || modelConfidence < 0 || modelConfidence > 1)) {
    problems.push({ field: 'prelabelConfidence', problem: 'must be a number from 0 to 1' });
  }
  const hasPrelabel = answers.prelabel !== undefined && answers.prelabel !== null && answers.prelabel !== '';
  if ((modelName !== null || modelConfidence !== null) && !hasPrelabel) {
    problems.push({ field: modelName !== null ? 'prelabelModel' : 'prelabelConfidence', problem: 'describes a pre-label, but the row has no prelabel' });
  }
  if (row.csv) {
    for (const col of NUMERIC_CSV_COLUMNS) {
      const cell = payload[col];
      if (typeof cell === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(cell)) payload[col] = Number(cell);
    }
    for (const f of ANSWER_FIELDS) {
      const cell = answers[f];
      if (typeof cell !== 'string') continue;
      const parsed = csvAnswer(rules, cell);
      if ('problem' in parsed) {
        problems.push({ field: f, problem: parsed.problem });
        answers[f] = undefined; // already reported; do not report it again as a bad answer
      } else answers[f] = parsed.value;
    }
  }
  const rename = (p: FieldProblem): FieldProblem =>
    wrapped ? p : { ...p, field: p.field === 'payload' ? 'row' : p.field.replace(/^payload\./, '') };
  const payloadProblems = validatePayload(rules, payload).map(rename);
  problems.push(...payloadProblems);
  if (!payloadProblems.length) {
    // An answer can only be checked against a sound payload (box bounds, span offsets).
    for (const f of ANSWER_FIELDS) {
      if (answers[f] !== undefined && answers[f] !== null) problems.push(...validateAnswer(rules, payload, answers[f], f));
    }
  }
  // PostgreSQL's jsonb cannot store U+0000; caught here it is this row's problem, not a failed import.
  const stored: [string, unknown][] = [['payload', payload], ['gold', answers.gold], ['prelabel', answers.prelabel]];
  for (const [f, v] of stored) {
    if (v !== undefined && JSON.stringify(v).includes('\\u0000')) problems.push({ field: wrapped || f !== 'payload' ? f : 'row', problem: 'contains a NUL character (\\u0000)' });
  }
  if (problems.length) return { ok: false, problems };
  const prelabel = answers.prelabel ?? null;
  return {
    ok: true,
    item: {
      payload,
      gold: answers.gold ?? null,
      prelabel,
      prelabelModel: prelabel === null ? null : ((modelName as string | null)?.trim() ?? null),
      prelabelConfidence: prelabel === null ? null : (modelConfidence as number | null),
      hash: contentHash(payload),
    },
  };
}

/** A gold/prelabel CSV cell: JSON, or for single-label a bare label (`cat` → {"label":"cat"}). */
function csvAnswer(rules: TaskTypeRules, cell: string): { value: unknown } | { problem: string } {
  const t = cell.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { value: JSON.parse(t) };
    } catch {
      return { problem: 'is not valid JSON' };
    }
  }
  if (rules.taskType === 'single-label') return { value: { label: t } };
  return { problem: `must be a JSON answer for a ${rules.taskType} task (a bare label only works for single-label)` };
}
