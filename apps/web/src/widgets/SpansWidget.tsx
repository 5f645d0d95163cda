import { ReactNode, useRef, useState } from 'react';
import { isTyping, useKeys } from './keys';
import { PALETTE } from './BoxesWidget';
import { Span, WidgetProps } from './types';

const WORD = /[\p{L}\p{N}_'’\-]/u;
const isWord = (c: string | undefined) => !!c && WORD.test(c);

/**
 * Snaps a selection [a, b) to whole tokens: trims surrounding white space, then widens each end
 * that falls inside a word to that word's boundary. Offsets are UTF-16 code units, as the API's.
 */
export function snapToTokens(text: string, a: number, b: number): [number, number] {
  let s = Math.max(0, Math.min(a, b));
  let e = Math.min(text.length, Math.max(a, b));
  while (s < e && /\s/.test(text[s])) s++;
  while (e > s && /\s/.test(text[e - 1])) e--;
  if (s >= e) return [s, s];
  while (s > 0 && isWord(text[s - 1]) && isWord(text[s])) s--;
  while (e < text.length && isWord(text[e - 1]) && isWord(text[e])) e++;
  return [s, e];
}

/** Offset of a DOM position inside `root`, counting the text before it (pseudo-elements excluded). */
function offsetIn(root: Node, node: Node, offset: number): number {
  const r = document.createRange();
  r.setStart(root, 0);
  r.setEnd(node, offset);
  return r.toString().length;
}

/**
 * Entity spans on a text. Select text with the mouse (or keyboard, then T) to tag it with the
 * current entity type; the selection snaps to whole words. Click a tagged span (or focus it and
 * press Delete) to clear it. Spans stay ordered and disjoint, as the API requires.
 */
export function SpansWidget({ labels, payload, value, onChange, onSubmit, keys }: WidgetProps<{ spans: Span[] }>) {
  const text = String(payload.text ?? '');
  const spans = [...(value?.spans ?? [])].sort((x, y) => x.start - y.start);
  const [type, setType] = useState(labels[0] ?? '');
  const [note, setNote] = useState('');
  const rootRef = useRef<HTMLDivElement>(null);
  const color = (l: string) => PALETTE[Math.max(0, labels.indexOf(l)) % PALETTE.length];

  const tagSelection = () => {
    const sel = window.getSelection();
    const root = rootRef.current;
    if (!sel || sel.isCollapsed || !root || sel.rangeCount === 0) return false;
    const r = sel.getRangeAt(0);
    if (!root.contains(r.startContainer) || !root.contains(r.endContainer)) return false;
    const [s, e] = snapToTokens(text, offsetIn(root, r.startContainer, r.startOffset), offsetIn(root, r.endContainer, r.endOffset));
    sel.removeAllRanges();
    if (s >= e || !type) return true;
    if (spans.some((x) => x.start < e && s < x.end)) {
      setNote(`“${text.slice(s, e)}” overlaps a tagged span; clear that one first.`);
      return true;
    }
    setNote(`Tagged “${text.slice(s, e)}” as ${type}.`);
    onChange({ spans: [...spans, { start: s, end: e, label: type }].sort((x, y) => x.start - y.start) });
    return true;
  };
  const clear = (sp: Span) => {
    if (window.getSelection()?.isCollapsed === false) return;
    onChange({ spans: spans.filter((x) => x !== sp) });
    setNote(`Cleared “${text.slice(sp.start, sp.end)}”.`);
  };

  useKeys(keys, (e) => {
    if (isTyping(e)) return;
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= Math.min(9, labels.length)) {
      e.preventDefault();
      setType(labels[n - 1]);
    } else if (e.key === 't' || e.key === 'T') {
      if (tagSelection()) e.preventDefault();
    } else if (e.key === 'Enter' && onSubmit && !(e.target instanceof HTMLButtonElement) && !(e.target as HTMLElement).closest?.('mark')) {
      e.preventDefault();
      onSubmit();
    }
  });

  const parts: ReactNode[] = [];
  let at = 0;
  spans.forEach((sp, i) => {
    if (sp.start > at) parts.push(text.slice(at, sp.start));
    parts.push(
      <mark
        key={i}
        className="span-tag"
        data-label={sp.label}
        style={{ background: `${color(sp.label)}2e`, borderColor: color(sp.label), ['--tag-color' as string]: color(sp.label) }}
        role="button"
        tabIndex={0}
        aria-label={`${text.slice(sp.start, sp.end)}: ${sp.label}. Press Delete or Enter to clear.`}
        onClick={() => clear(sp)}
        onKeyDown={(e) => {
          if (e.key === 'Delete' || e.key === 'Backspace' || e.key === 'Enter') {
            e.preventDefault();
            clear(sp);
          }
        }}
      >
        {text.slice(sp.start, sp.end)}
      </mark>,
    );
    at = sp.end;
  });
  if (at < text.length) parts.push(text.slice(at));

  return (
    <div className="widget spans-widget">
      <div className="label-buttons compact" role="radiogroup" aria-label="Entity type">
        {labels.map((l, i) => (
          <button key={l} type="button" role="radio" aria-checked={type === l} className={`label-button ${type === l ? 'selected' : ''}`} onClick={() => setType(l)}>
            <span className="swatch" style={{ background: color(l) }} aria-hidden="true" />
            {i < 9 && <kbd aria-hidden="true">{i + 1}</kbd>}
            <span>{l}</span>
          </button>
        ))}
        <button type="button" className="secondary" onMouseDown={(e) => e.preventDefault()} onClick={tagSelection}>
          Tag selection <kbd aria-hidden="true">T</kbd>
        </button>
      </div>
      <div ref={rootRef} className="span-text" data-testid="span-text" onMouseUp={() => tagSelection()} aria-label="Text to tag">
        {parts}
      </div>
      <p className="hint" aria-live="polite">
        {note || 'Select words with the mouse to tag them with the chosen entity type (1–9 switches type). Click a tag to clear it. Enter submits.'}
      </p>
    </div>
  );
}
