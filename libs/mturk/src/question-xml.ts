import { createHash } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { TaskType } from '@tally/campaigns';
import { MturkErrors } from './mturk.errors';

/**
 * MTurk Question XML → a Tally task type, label set and payload; Tally answers → QuestionFormAnswers.
 *
 * | Question                                      | Tally task type | answer a worker submits                 |
 * |-----------------------------------------------|-----------------|-----------------------------------------|
 * | QuestionForm, one SelectionAnswer, max 1      | single-label    | { label: SelectionIdentifier }          |
 * | QuestionForm, one SelectionAnswer, max > 1    | multi-label     | { labels: [SelectionIdentifier, ...] }  |
 * | QuestionForm, one FreeTextAnswer              | text            | { text }                                |
 * | HTMLQuestion                                  | text            | { text: JSON object of the form fields } |
 * | ExternalQuestion                              | text            | { text: JSON object of the form fields } |
 *
 * A QuestionForm with several questions, or with a FileUploadAnswer, has no Tally task type and is
 * refused with a clear RequestError. The worker sees the question text (Overview + QuestionContent)
 * as the task's `text`, an image from a Binary element as `imageUrl`, and the selections' display
 * texts under `mturk.selections`; HTML / external questions carry their HTML or URL under `mturk`.
 */
export type QuestionKind = 'QuestionForm' | 'HTMLQuestion' | 'ExternalQuestion';

export interface MappedQuestion {
  kind: QuestionKind;
  taskType: Extract<TaskType, 'single-label' | 'multi-label' | 'text'>;
  /** Selection identifiers (empty for text). */
  labels: string[];
  maxTextLength: number;
  /** The QuestionIdentifier answers are reported under (QuestionForm), else null. */
  questionIdentifier: string | null;
  /** What the worker sees; `mturk.ref` is filled in by the caller. */
  payload: { text?: string; imageUrl?: string; mturk: Record<string, unknown> };
}

export const MAX_QUESTION_CHARS = 131_072; // MTurk's limit on the Question parameter
const MAX_FREE_TEXT = 100_000;
const DEFAULT_FREE_TEXT = 2000;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['Question', 'Selection', 'Text', 'Binary', 'FormattedContent', 'ListItem', 'List', 'Title'].includes(name),
});

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : isNode(v) && typeof v['#text'] === 'string' ? (v['#text'] as string) : '').trim();

export function parseQuestion(xml: string, fallbackText: string): MappedQuestion {
  if (typeof xml !== 'string' || !xml.trim()) throw MturkErrors.missing('Question');
  if (xml.length > MAX_QUESTION_CHARS) throw MturkErrors.parameter('Question', `must be at most ${MAX_QUESTION_CHARS} characters`);
  // No DTDs: MTurk's schemas never need them, and entity declarations are how XML bombs start.
  if (/<!DOCTYPE\s+(QuestionForm|HTMLQuestion|ExternalQuestion)|<!ENTITY/i.test(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''))) {
    throw MturkErrors.invalidQuestion('DOCTYPE and ENTITY declarations are not allowed');
  }
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw MturkErrors.invalidQuestion((err as Error).message.split('\n')[0]);
  }
  if (isNode(doc.QuestionForm)) return questionForm(doc.QuestionForm, fallbackText);
  if (isNode(doc.HTMLQuestion)) {
    const html = str(doc.HTMLQuestion.HTMLContent);
    if (!html) throw MturkErrors.invalidQuestion('HTMLQuestion needs a non-empty HTMLContent');
    return framed('HTMLQuestion', { html, frameHeight: frameHeight(doc.HTMLQuestion) }, fallbackText);
  }
  if (isNode(doc.ExternalQuestion)) {
    const url = str(doc.ExternalQuestion.ExternalURL);
    if (!/^https?:\/\/[^\s]+$/i.test(url)) throw MturkErrors.invalidQuestion('ExternalQuestion needs an http(s) ExternalURL');
    return framed('ExternalQuestion', { externalUrl: url, frameHeight: frameHeight(doc.ExternalQuestion) }, fallbackText);
  }
  throw MturkErrors.invalidQuestion('the root element must be QuestionForm, HTMLQuestion or ExternalQuestion');
}

function frameHeight(n: Node): number {
  const h = Number(str(n.FrameHeight) || 0);
  return Number.isInteger(h) && h >= 0 ? h : 0;
}

function framed(kind: QuestionKind, extra: Record<string, unknown>, fallbackText: string): MappedQuestion {
  return {
    kind,
    taskType: 'text',
    labels: [],
    maxTextLength: MAX_FREE_TEXT,
    questionIdentifier: null,
    payload: { text: fallbackText.slice(0, MAX_FREE_TEXT), mturk: { kind, ...extra } },
  };
}

interface Content {
  text: string[];
  imageUrl?: string;
}

/** Title / Text / FormattedContent / List / Binary of an Overview or QuestionContent, in reading order enough for a worker. */
function content(n: unknown, into: Content): void {
  if (!isNode(n)) return;
  for (const t of (n.Title as unknown[]) ?? []) if (str(t)) into.text.push(str(t));
  for (const t of (n.Text as unknown[]) ?? []) if (str(t)) into.text.push(str(t));
  for (const f of (n.FormattedContent as unknown[]) ?? []) {
    const plain = str(f).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    if (plain) into.text.push(plain);
  }
  for (const l of (n.List as unknown[]) ?? []) {
    if (isNode(l)) for (const li of (l.ListItem as unknown[]) ?? []) if (str(li)) into.text.push(`- ${str(li)}`);
  }
  for (const b of (n.Binary as unknown[]) ?? []) {
    if (!isNode(b) || into.imageUrl) continue;
    const url = str(b.DataURL);
    const type = isNode(b.MimeType) ? str(b.MimeType.Type) : '';
    if (type === 'image' && /^https?:\/\//i.test(url)) into.imageUrl = url;
    else if (url) into.text.push(url);
  }
}

function questionForm(form: Node, fallbackText: string): MappedQuestion {
  const questions = (form.Question as unknown[]) ?? [];
  if (questions.length !== 1) {
    throw MturkErrors.unsupportedQuestion(
      `Tally maps a QuestionForm with exactly one Question onto a task (this one has ${questions.length}); use one question per HIT, or an HTMLQuestion for multi-field forms.`,
    );
  }
  const q = questions[0];
  if (!isNode(q)) throw MturkErrors.invalidQuestion('Question must be an element');
  const id = str(q.QuestionIdentifier);
  if (!id) throw MturkErrors.invalidQuestion('Question needs a QuestionIdentifier');
  const c: Content = { text: [] };
  content(form.Overview, c);
  content(q.QuestionContent, c);
  const text = (c.text.join('\n') || fallbackText).slice(0, MAX_FREE_TEXT);
  const spec = isNode(q.AnswerSpecification) ? q.AnswerSpecification : null;
  if (!spec) throw MturkErrors.invalidQuestion('Question needs an AnswerSpecification');
  const payload = { text, ...(c.imageUrl ? { imageUrl: c.imageUrl } : {}) };

  if (isNode(spec.SelectionAnswer)) {
    const sel = spec.SelectionAnswer;
    const selections = isNode(sel.Selections) ? ((sel.Selections.Selection as unknown[]) ?? []) : [];
    const options = selections.filter(isNode).map((s) => ({ id: str(s.SelectionIdentifier), text: str((s.Text as unknown[])?.[0]) || str(s.SelectionIdentifier) }));
    if (!options.length || options.some((o) => !o.id)) throw MturkErrors.invalidQuestion('SelectionAnswer needs Selections, each with a SelectionIdentifier');
    if (options.some((o) => o.id.length > 100)) throw MturkErrors.unsupportedQuestion('A SelectionIdentifier longer than 100 characters does not fit a Tally label');
    if (new Set(options.map((o) => o.id)).size !== options.length) throw MturkErrors.invalidQuestion('SelectionIdentifiers must be distinct');
    if (options.length > 500) throw MturkErrors.unsupportedQuestion('At most 500 selections fit a Tally label set');
    const max = Number(str(sel.MaxSelectionCount) || 1);
    const style = str(sel.StyleSuggestion);
    const multi = max > 1 || style === 'checkbox' || style === 'multichooser';
    return {
      kind: 'QuestionForm',
      taskType: multi ? 'multi-label' : 'single-label',
      labels: options.map((o) => o.id),
      maxTextLength: DEFAULT_FREE_TEXT,
      questionIdentifier: id,
      payload: { ...payload, mturk: { kind: 'QuestionForm', questionIdentifier: id, selections: options } },
    };
  }
  if (spec.FreeTextAnswer !== undefined) {
    const ft = isNode(spec.FreeTextAnswer) ? spec.FreeTextAnswer : {};
    const len = isNode(ft.Constraints) && isNode(ft.Constraints.Length) ? Number(ft.Constraints.Length['@_maxLength']) : NaN;
    const maxTextLength = Number.isInteger(len) && len >= 1 ? Math.min(len, MAX_FREE_TEXT) : DEFAULT_FREE_TEXT;
    return {
      kind: 'QuestionForm',
      taskType: 'text',
      labels: [],
      maxTextLength,
      questionIdentifier: id,
      payload: { ...payload, mturk: { kind: 'QuestionForm', questionIdentifier: id } },
    };
  }
  if (spec.FileUploadAnswer !== undefined) throw MturkErrors.unsupportedQuestion('FileUploadAnswer has no Tally task type');
  throw MturkErrors.invalidQuestion('AnswerSpecification needs a SelectionAnswer or a FreeTextAnswer');
}

/** Campaign key of a question shape: HITs of one HIT type with equal shapes share a campaign. */
export function shapeKey(q: Pick<MappedQuestion, 'kind' | 'taskType' | 'labels' | 'maxTextLength'>, maxAssignments: number): string {
  const labels = createHash('sha256').update(JSON.stringify(q.labels)).digest('hex').slice(0, 16);
  return `${q.kind}|${q.taskType}|${labels}|${q.maxTextLength}|${maxAssignments}`;
}

const QFA_NS = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd';

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * A Tally answer as MTurk's QuestionFormAnswers XML. Selection answers → SelectionIdentifier
 * elements; free text → FreeText. For HTML / external questions the answer text is read as a JSON
 * object of form fields (one Answer per field, several values joined with '|' as MTurk does); any
 * other text becomes one field named "answer".
 */
export function toQuestionFormAnswers(kind: QuestionKind, questionIdentifier: string | null, answer: unknown): string {
  const items: string[] = [];
  const a = (answer ?? {}) as Record<string, unknown>;
  const qid = questionIdentifier ?? 'answer';
  const free = (id: string, v: string) => `<Answer><QuestionIdentifier>${xmlEscape(id)}</QuestionIdentifier><FreeText>${xmlEscape(v)}</FreeText></Answer>`;
  if (typeof a.label === 'string') {
    items.push(`<Answer><QuestionIdentifier>${xmlEscape(qid)}</QuestionIdentifier><SelectionIdentifier>${xmlEscape(a.label)}</SelectionIdentifier></Answer>`);
  } else if (Array.isArray(a.labels)) {
    items.push(
      `<Answer><QuestionIdentifier>${xmlEscape(qid)}</QuestionIdentifier>${a.labels.map((l) => `<SelectionIdentifier>${xmlEscape(String(l))}</SelectionIdentifier>`).join('')}</Answer>`,
    );
  } else if (typeof a.text === 'string') {
    const fields = kind === 'QuestionForm' ? null : formFields(a.text);
    if (fields) for (const [k, v] of Object.entries(fields)) items.push(free(k, Array.isArray(v) ? v.map(String).join('|') : v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)));
    else items.push(free(qid, a.text));
  }
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<QuestionFormAnswers xmlns="${QFA_NS}">${items.join('')}</QuestionFormAnswers>`;
}

function formFields(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}
