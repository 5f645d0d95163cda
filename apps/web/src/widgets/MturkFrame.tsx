import { useEffect, useRef, useState } from 'react';
import { api, describeError } from '../api';
import { Payload } from './types';

export type FramedKind = 'HTMLQuestion' | 'ExternalQuestion';

/** The HIT question kind of a claimed task when it is shown in a frame (MTurk HTMLQuestion / ExternalQuestion), else null. */
export function framedKind(payload: Payload): FramedKind | null {
  const kind = (payload.mturk as { kind?: unknown } | undefined)?.kind;
  return kind === 'HTMLQuestion' || kind === 'ExternalQuestion' ? kind : null;
}

interface WorkerFrame {
  kind: FramedKind;
  url: string;
  frameHeight: number;
  submitUrl: string;
}

/**
 * The sandbox of a question frame. A requester's HTML is served by Tally itself, so it never gets
 * allow-same-origin: with scripts it could otherwise reach into Tally's storage (the refresh token)
 * and pages. An ExternalQuestion lives on the requester's own site; it keeps its own origin there
 * (its cookies, as psiTurk-style apps need), but never when that origin is Tally's.
 */
export function frameSandbox(kind: FramedKind, url: string, here = window.location.origin): string {
  const base = 'allow-scripts allow-forms';
  if (kind !== 'ExternalQuestion') return base;
  let origin = '';
  try {
    origin = new URL(url).origin;
  } catch {
    return base;
  }
  return origin && origin !== 'null' && origin !== here ? `${base} allow-same-origin` : base;
}

/**
 * An MTurk HTMLQuestion / ExternalQuestion task: the page in a sandboxed iframe, with
 * assignmentId / hitId / workerId / turkSubmitTo in its URL; its form posts to Tally's
 * externalSubmit, which records the fields as the answer. The frame cannot tell this page what
 * happened (it has another origin), so a "submitted" message from the frame, or any later page
 * load in it, only makes this page ask the server whether the assignment is still open;
 * `onSubmitted` runs once the server says it was submitted.
 */
export function MturkFrame({ assignmentId, title, onSubmitted }: { assignmentId: string; title: string; onSubmitted(): void }) {
  const [frame, setFrame] = useState<WorkerFrame>();
  const [error, setError] = useState<unknown>();
  const [note, setNote] = useState('');
  const ref = useRef<HTMLIFrameElement>(null);
  const loads = useRef(0);
  const done = useRef(false);
  const submittedRef = useRef(onSubmitted);
  submittedRef.current = onSubmitted;

  useEffect(() => {
    let alive = true;
    loads.current = 0;
    done.current = false;
    setFrame(undefined);
    setError(undefined);
    api<WorkerFrame>(`/mturk/assignments/${assignmentId}/frame`)
      .then((f) => alive && setFrame(f))
      .catch((e) => alive && setError(e));
    return () => {
      alive = false;
    };
  }, [assignmentId]);

  const check = async (asked = false) => {
    if (done.current) return;
    try {
      const a = await api<{ status: string }>(`/work/assignments/${assignmentId}`);
      if (a.status !== 'claimed' && !done.current) {
        done.current = true;
        submittedRef.current();
      } else if (asked) setNote('Tally has not received an answer for this task yet: submit the form in the frame.');
    } catch (e) {
      setNote(describeError(e));
    }
  };

  useEffect(() => {
    const onMessage = (e: MessageEvent) => {
      if (e.source !== ref.current?.contentWindow) return;
      if ((e.data as { type?: unknown } | null)?.type === 'tally:mturk-submitted') void check();
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  });

  if (error) {
    return (
      <p className="error" role="alert">
        {describeError(error)}
      </p>
    );
  }
  if (!frame) return <p className="muted">Loading the task page…</p>;
  return (
    <div className="mturk-frame" data-kind={frame.kind}>
      <iframe
        ref={ref}
        src={frame.url}
        title={title}
        sandbox={frameSandbox(frame.kind, frame.url)}
        referrerPolicy="no-referrer"
        style={{ width: '100%', height: `${frame.frameHeight > 0 ? frame.frameHeight : 600}px`, border: '1px solid #ccd', borderRadius: 4, background: '#fff' }}
        onLoad={() => {
          // The first load is the question; a later one is the page its form led to.
          if (++loads.current > 1) void check();
        }}
      />
      <p className="hint">
        {frame.kind === 'ExternalQuestion' ? 'This task runs on the requester’s own site. ' : ''}Answer inside the frame and submit with its own button; the next task follows.
        {' '}
        <button type="button" className="link" onClick={() => void check(true)}>
          I submitted it
        </button>
      </p>
      {note && (
        <p className="error" role="alert">
          {note}
        </p>
      )}
    </div>
  );
}
