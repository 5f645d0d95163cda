import type { FieldProblem } from '@tally/common';
import { TaskTypeRules, validateAnswer, validatePayload } from '../task-types';
import { contentHash } from './content-hash';
import type { RawRow } from './item-parsers';

/** A row that fits the campaign, ready to insert. */
export interface ImportItem {
  payload: Record<string, unknown>;
  gold: unknown;
  prelabel: unknown;
  hash: string;
}

export type RowResult = { ok: true; item: ImportItem } | { ok: false; problems: FieldProblem[] };

const ANSWER_FIELDS = ['gold', 'prelabel'] as const;
const WRAPPED_FIELDS = new Set(['payload', 'gold', 'prelabel']);
/** CSV cells are strings; these payload columns are numbers in every task type that has them. */
const NUMERIC_CSV_COLUMNS = ['width', 'height'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Turns one uploaded row into an item, or says exactly what is wrong with it. Two shapes:
 * - wrapped: `{"payload": {...}, "gold"?: answer, "prelabel"?: answer}`;
 * - flat: the row is the payload, with optional `gold` / `prelabel` keys taken out of it
 *   (CSV is always flat: columns are payload fields).
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
  const problems: FieldProblem[] = [];
  if (wrapped) {
    for (const k of Object.keys(v)) if (!WRAPPED_FIELDS.has(k)) problems.push({ field: k, problem: 'is not a row field (use payload, gold, prelabel)' });
    if (!isObject(v.payload)) return { ok: false, problems: [...problems, { field: 'payload', problem: 'must be an object' }] };
    payload = v.payload;
    answers = { gold: v.gold, prelabel: v.prelabel };
  } else {
    const { gold, prelabel, ...rest } = v;
    payload = rest;
    answers = { gold, prelabel };
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
  return { ok: true, item: { payload, gold: answers.gold ?? null, prelabel: answers.prelabel ?? null, hash: contentHash(payload) } };
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
