/**
 * Task-type specific export formats, as pure functions over one task's result:
 * - COCO (object detection, https://cocodataset.org/#format-data) for box campaigns;
 * - CoNLL (one token per line with its BIO tag, a blank line between items) for span campaigns.
 * ResultsService streams them; these only shape one task at a time.
 */

interface BoxLike {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
}

interface SpanLike {
  start: number;
  end: number;
  label: string;
}

/** A COCO category per box class, ids 1..K in the campaign's label order (COCO reserves 0). */
export function cocoCategories(labels: readonly string[]): { id: number; name: string; supercategory: string }[] {
  return labels.map((name, i) => ({ id: i + 1, name, supercategory: 'object' }));
}

export interface CocoImage {
  id: number;
  file_name: string;
  coco_url: string;
  width: number;
  height: number;
  tally_task_id: string;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  area: number;
  iscrowd: 0;
  /** The task's consensus confidence (COCO's results format calls it score). */
  score: number | null;
  tally_low_confidence: boolean;
}

/** The image entry of a boxes task: its seq is the image id (stable, unique per campaign). */
export function cocoImage(seq: number, taskId: string, payload: Record<string, unknown>): CocoImage {
  const url = String(payload.imageUrl ?? '');
  let fileName = url;
  try {
    fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() || url);
  } catch {
    /* not a URL: keep it whole */
  }
  return { id: seq, file_name: fileName, coco_url: url, width: Number(payload.width), height: Number(payload.height), tally_task_id: taskId };
}

/**
 * The annotations of one task's consensus boxes. `nextId` numbers them across the file; boxes of
 * a class outside the label set are left out (they cannot have a category).
 */
export function cocoAnnotations(seq: number, label: unknown, confidence: number | null, lowConfidence: boolean, categories: ReadonlyMap<string, number>, nextId: () => number): CocoAnnotation[] {
  const boxes = ((label as { boxes?: BoxLike[] } | null)?.boxes ?? []) as BoxLike[];
  const out: CocoAnnotation[] = [];
  for (const b of boxes) {
    const category = categories.get(b.label);
    if (category === undefined) continue;
    const bbox: [number, number, number, number] = [round(b.x), round(b.y), round(b.w), round(b.h)];
    out.push({ id: nextId(), image_id: seq, category_id: category, bbox, area: round(bbox[2] * bbox[3]), iscrowd: 0, score: confidence, tally_low_confidence: lowConfidence });
  }
  return out;
}

const round = (v: number) => Math.round(v * 100) / 100;

/**
 * Tokens of a text with their UTF-16 offsets: runs of letters/digits, and each other
 * non-space character on its own. A token is also cut at every span boundary, so a span that
 * starts or ends inside a word still gets exactly its characters.
 */
export function tokenize(text: string, cuts: readonly number[] = []): { token: string; start: number; end: number }[] {
  const cutSet = new Set(cuts);
  const out: { token: string; start: number; end: number }[] = [];
  for (const m of text.matchAll(/[\p{L}\p{M}\p{N}_]+|[^\p{L}\p{M}\p{N}_\s]/gu)) {
    const start = m.index!;
    const end = start + m[0].length;
    let from = start;
    for (let i = start + 1; i < end; i++) {
      if (cutSet.has(i)) {
        out.push({ token: text.slice(from, i), start: from, end: i });
        from = i;
      }
    }
    out.push({ token: text.slice(from, end), start: from, end });
  }
  return out;
}

/**
 * One item in CoNLL: `token<TAB>tag` per line, tags in BIO (B-TYPE starts a span, I-TYPE continues
 * it, O is outside every span), the item preceded by a `# task_id = …` comment line and followed
 * by a blank line. Tab-separated, so a comment line (no tab) cannot be mistaken for a token.
 */
export function conllItem(taskId: string, text: string, label: unknown): string {
  const spans = [...(((label as { spans?: SpanLike[] } | null)?.spans ?? []) as SpanLike[])].sort((a, b) => a.start - b.start);
  const tokens = tokenize(text, spans.flatMap((s) => [s.start, s.end]));
  const lines = [`# task_id = ${taskId}`];
  let open: SpanLike | null = null;
  for (const t of tokens) {
    const span = spans.find((s) => s.start < t.end && t.start < s.end) ?? null;
    let tag = 'O';
    if (span) tag = `${span === open ? 'I' : 'B'}-${span.label}`;
    open = span;
    lines.push(`${t.token}\t${tag}`);
  }
  return lines.join('\n') + '\n\n';
}
