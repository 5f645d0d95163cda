import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainError, notFound } from '@tally/common';
import { TALLY_CONFIG, TallyConfig } from '@tally/config';
import { SubmitAnswerUseCase } from '@tally/work';
import { mturkWorkerId, serverKey } from './server-key';

export interface WorkerFrame {
  kind: 'HTMLQuestion' | 'ExternalQuestion';
  /** What the worker UI puts in a sandboxed iframe. */
  url: string;
  frameHeight: number;
  /** Where the page's form posts (MTurk's turkSubmitTo + /mturk/externalSubmit). */
  submitUrl: string;
}

/** What the "submitted" page runs: it tells the worker UI around the frame to move on (the UI checks with the server). */
const SUBMITTED_SCRIPT = `parent.postMessage({ type: 'tally:mturk-submitted' }, '*');`;
const SUBMITTED_SCRIPT_HASH = `'sha256-${createHash('sha256').update(SUBMITTED_SCRIPT).digest('base64')}'`;

/** The page the frame shows after externalSubmit took the answer. */
export const SUBMITTED_PAGE =
  `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Submitted</title></head>` +
  `<body style="font-family:sans-serif"><p>Your answer was submitted. You can go on to the next task.</p><script>${SUBMITTED_SCRIPT}</script></body></html>`;

/**
 * The headers of the pages Tally serves into a worker's frame. They set their own
 * Content-Security-Policy (replacing the app-wide one): the `sandbox` directive gives the page an
 * opaque origin even when opened on its own (it can never read Tally's storage, cookies or
 * pages), only Tally may frame it, it frames nothing and embeds no plugins, and its forms may post
 * only to Tally's externalSubmit. A requester's HTML may use inline and https scripts, styles,
 * images and fonts, as MTurk templates do (crowd-html-elements, jQuery from a CDN).
 */
export function frameHeaders(publicUrl: string, page: 'question' | 'submitted'): Record<string, string> {
  const origin = new URL(publicUrl).origin;
  const csp =
    page === 'question'
      ? [
          'sandbox allow-scripts allow-forms',
          "default-src 'none'",
          "script-src 'unsafe-inline' https:",
          "style-src 'unsafe-inline' https:",
          'img-src https: data: blob:',
          'font-src https: data:',
          'media-src https: data: blob:',
          'connect-src https:',
          `form-action ${origin}/api/mturk/submit/`,
          `frame-ancestors 'self' ${origin}`,
          "frame-src 'none'",
          "object-src 'none'",
          "base-uri 'none'",
        ]
      : ['sandbox allow-scripts', "default-src 'none'", `script-src ${SUBMITTED_SCRIPT_HASH}`, "style-src 'unsafe-inline'", `frame-ancestors 'self' ${origin}`, "form-action 'none'", "base-uri 'none'"];
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp.join('; '),
    'x-frame-options': 'SAMEORIGIN',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

/** MTurk's submit endpoints that HIT templates hard-code; Tally points them at its own. */
const MTURK_SUBMIT_URLS = /https?:\/\/(www|workersandbox)\.mturk\.com\/mturk\/externalSubmit/g;

/**
 * The worker's side of HTMLQuestion / ExternalQuestion HITs, as MTurk does it: the page gets
 * assignmentId, hitId, workerId and turkSubmitTo as query parameters, and its form posts to
 * `{turkSubmitTo}/mturk/externalSubmit`. turkSubmitTo carries a capability token (an HMAC of the
 * assignment id under a server key), because a form posted from a requester's page carries no
 * Tally login; the token is good for that one assignment, and only while it is claimed (the
 * submit use case checks the lease). The form's fields become the answer `{text: JSON}`.
 */
@Injectable()
export class MturkFramesService {
  private readonly key: Buffer;
  private readonly workerKey: Buffer;
  private readonly publicUrl: string;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly submitAnswer: SubmitAnswerUseCase,
    @Inject(TALLY_CONFIG) config: TallyConfig,
  ) {
    this.key = serverKey(config, 'submit-tokens/v1');
    this.workerKey = serverKey(config, 'worker-ids/v1');
    this.publicUrl = config.publicUrl;
  }

  /** The headers of a frame page of this server (see frameHeaders). */
  headers(page: 'question' | 'submitted'): Record<string, string> {
    return frameHeaders(this.publicUrl, page);
  }

  token(assignmentId: string): string {
    return `${assignmentId}.${createHmac('sha256', this.key).update(`submit:${assignmentId}`).digest('base64url').slice(0, 32)}`;
  }

  /** The assignment a token stands for, or null when it was not issued by this server. */
  verify(token: string): string | null {
    const i = token.lastIndexOf('.');
    if (i <= 0) return null;
    const expected = Buffer.from(this.token(token.slice(0, i)));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given) ? token.slice(0, i) : null;
  }

  /** For the worker UI: the frame of the caller's claimed HTML / external HIT assignment. */
  async frameFor(workerId: string, assignmentId: string): Promise<WorkerFrame> {
    if (!workerId) throw new Error('worker id is required');
    const [row] = await this.ds.query(
      `SELECT a.id, a.task_id, h.owner_id, h.question_kind, t.payload->'mturk' AS mturk
         FROM assignments a JOIN mturk_hits h ON h.task_id = a.task_id JOIN tasks t ON t.id = a.task_id
        WHERE a.id = $1 AND a.worker_id = $2 AND a.status = 'claimed'`,
      [assignmentId, workerId],
    );
    if (!row || row.question_kind === 'QuestionForm') throw notFound('MTURK_FRAME_NOT_FOUND', 'No claimed HTML or external MTurk question with this assignment id');
    const turkSubmitTo = `${this.publicUrl}/api/mturk/submit/${this.token(row.id)}`;
    const params = new URLSearchParams({ assignmentId: row.id, hitId: row.task_id, workerId: mturkWorkerId(this.workerKey, row.owner_id, workerId), turkSubmitTo });
    const base = row.question_kind === 'ExternalQuestion' ? String(row.mturk.externalUrl) : `${this.publicUrl}/api/mturk/frame/${this.token(row.id)}`;
    return {
      kind: row.question_kind,
      url: `${base}${base.includes('?') ? '&' : '?'}${params}`,
      frameHeight: Number(row.mturk.frameHeight) || 0,
      submitUrl: `${turkSubmitTo}/mturk/externalSubmit`,
    };
  }

  /** The requester's HTMLQuestion page, with MTurk's submit URLs pointed at this assignment's. */
  async html(token: string): Promise<string> {
    const assignmentId = this.verify(token);
    const [row] = assignmentId
      ? await this.ds.query(`SELECT t.payload->'mturk'->>'html' AS html FROM assignments a JOIN tasks t ON t.id = a.task_id WHERE a.id = $1 AND a.status = 'claimed'`, [assignmentId])
      : [];
    if (!row?.html) throw notFound('MTURK_FRAME_NOT_FOUND', 'This question is no longer available');
    return String(row.html).replace(MTURK_SUBMIT_URLS, `${this.publicUrl}/api/mturk/submit/${token}/mturk/externalSubmit`);
  }

  /** MTurk's externalSubmit: the form's fields (assignmentId among them) become the assignment's answer. */
  async submit(token: string, fields: Record<string, string | string[]>): Promise<void> {
    const assignmentId = this.verify(token);
    if (!assignmentId) throw new DomainError('MTURK_SUBMIT_REFUSED', 'forbidden', 'This submission link is not valid');
    // Templates fill the hidden assignmentId field from the URL with a script; left empty, the token still names the assignment.
    const given = fields.assignmentId;
    if (given !== undefined && given !== '' && given !== assignmentId) throw new DomainError('MTURK_SUBMIT_REFUSED', 'invalid', 'assignmentId does not match this submission link');
    const [row] = await this.ds.query(`SELECT worker_id FROM assignments WHERE id = $1`, [assignmentId]);
    if (!row) throw notFound('ASSIGNMENT_NOT_FOUND', 'Assignment not found');
    const answer: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(fields)) if (k !== 'assignmentId') answer[k] = v;
    await this.submitAnswer.execute({ workerId: row.worker_id, assignmentId, answer: { text: JSON.stringify(answer) } });
  }
}
