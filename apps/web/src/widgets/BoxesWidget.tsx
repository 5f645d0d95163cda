import { PointerEvent as RPointerEvent, useEffect, useRef, useState } from 'react';
import { isTyping, useKeys } from './keys';
import { Box, WidgetProps } from './types';

export const PALETTE = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b', '#7f7f00'];

type Corner = 'nw' | 'ne' | 'sw' | 'se';
type Drag =
  | { kind: 'draw'; x0: number; y0: number; index: number }
  | { kind: 'move'; index: number; dx: number; dy: number; moved: boolean }
  | { kind: 'resize'; index: number; fx: number; fy: number };

/** The stage the image is fitted into at zoom 1: a fixed size so the page never jumps. */
const STAGE_W = 760;
const STAGE_H = 460;
const MIN_SIZE = 2;

/**
 * Bounding boxes on an image. The SVG's viewBox is the image in its own pixels, so every
 * coordinate the pointer produces (through the inverse screen matrix) is already in image pixels,
 * whatever the zoom. Drag on the image to draw; drag a box to move it; drag a corner to resize;
 * Delete removes the selected box; 1..9 pick the class (and relabel the selected box).
 */
export function BoxesWidget({ labels, payload, value, onChange, onSubmit, keys }: WidgetProps<{ boxes: Box[] }>) {
  const W = Number(payload.width) || 1;
  const H = Number(payload.height) || 1;
  const boxes = value?.boxes ?? [];
  // Pointer events can outrun rendering: handlers read and write the newest list through a ref.
  const latest = useRef(boxes);
  latest.current = boxes;
  const set = (next: Box[]) => {
    latest.current = next;
    onChange({ boxes: next });
  };
  const [cls, setCls] = useState(labels[0] ?? '');
  const [selected, setSelected] = useState<number | null>(null);
  const [zoom, setZoom] = useState(1);
  const svgRef = useRef<SVGSVGElement>(null);
  const drag = useRef<Drag | null>(null);
  // Fit the image into the stage's width (measured) and a fixed height, so nothing moves when the
  // next task's image loads.
  const stageRef = useRef<HTMLDivElement>(null);
  const [stageW, setStageW] = useState(STAGE_W);
  useEffect(() => {
    const el = stageRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(([e]) => setStageW(Math.max(200, Math.floor(e.contentRect.width) - 4)));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const stageH = Math.min(STAGE_H, Math.round(stageW * 0.62));
  const fit = Math.min(stageW / W, stageH / H);
  const scale = fit * zoom;
  const clampX = (v: number) => Math.max(0, Math.min(W, v));
  const clampY = (v: number) => Math.max(0, Math.min(H, v));
  const round = (v: number) => Math.round(v);

  const toImage = (e: { clientX: number; clientY: number }) => {
    const svg = svgRef.current!;
    const m = svg.getScreenCTM();
    if (!m) return { x: 0, y: 0 };
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(m.inverse());
    return { x: clampX(p.x), y: clampY(p.y) };
  };
  const rectFrom = (ax: number, ay: number, bx: number, by: number, label: string): Box => ({
    x: round(Math.min(ax, bx)),
    y: round(Math.min(ay, by)),
    w: round(Math.max(ax, bx)) - round(Math.min(ax, bx)),
    h: round(Math.max(ay, by)) - round(Math.min(ay, by)),
    label,
  });
  const replace = (i: number, b: Box) => set(latest.current.map((x, j) => (j === i ? b : x)));
  const remove = (i: number) => {
    set(latest.current.filter((_, j) => j !== i));
    setSelected(null);
  };
  const chooseClass = (l: string) => {
    setCls(l);
    if (selected !== null && boxes[selected]) replace(selected, { ...boxes[selected], label: l });
  };

  const onPointerDown = (e: RPointerEvent<SVGSVGElement>) => {
    if (e.button !== 0) return;
    const t = e.target as Element;
    const p = toImage(e);
    const handle = t.getAttribute('data-handle') as Corner | null;
    const boxAttr = t.getAttribute('data-box');
    e.currentTarget.setPointerCapture(e.pointerId);
    if (handle && boxAttr !== null) {
      const i = Number(boxAttr);
      const b = boxes[i];
      // Resizing keeps the opposite corner fixed.
      drag.current = { kind: 'resize', index: i, fx: handle.includes('w') ? b.x + b.w : b.x, fy: handle.includes('n') ? b.y + b.h : b.y };
      setSelected(i);
    } else if (boxAttr !== null) {
      const i = Number(boxAttr);
      drag.current = { kind: 'move', index: i, dx: p.x - boxes[i].x, dy: p.y - boxes[i].y, moved: false };
      setSelected(i);
    } else {
      if (!cls) return;
      drag.current = { kind: 'draw', x0: p.x, y0: p.y, index: boxes.length };
      set([...boxes, rectFrom(p.x, p.y, p.x, p.y, cls)]);
      setSelected(boxes.length);
    }
    e.preventDefault();
  };
  const onPointerMove = (e: RPointerEvent<SVGSVGElement>) => {
    const d = drag.current;
    if (!d) return;
    const p = toImage(e);
    const b = latest.current[d.index];
    if (!b) return;
    if (d.kind === 'draw') replace(d.index, rectFrom(d.x0, d.y0, p.x, p.y, b.label));
    else if (d.kind === 'resize') replace(d.index, rectFrom(d.fx, d.fy, p.x, p.y, b.label));
    else {
      d.moved = true;
      replace(d.index, { ...b, x: round(Math.max(0, Math.min(W - b.w, p.x - d.dx))), y: round(Math.max(0, Math.min(H - b.h, p.y - d.dy))) });
    }
  };
  const onPointerUp = () => {
    const d = drag.current;
    drag.current = null;
    if (!d) return;
    const b = latest.current[d.index];
    // A click (no real drag) makes no box; a resize to nothing removes the box.
    if (b && (d.kind === 'draw' || d.kind === 'resize') && (b.w < MIN_SIZE || b.h < MIN_SIZE)) {
      remove(d.index);
    }
  };

  useKeys(keys, (e) => {
    if (isTyping(e)) return;
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= Math.min(9, labels.length)) {
      e.preventDefault();
      chooseClass(labels[n - 1]);
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && selected !== null) {
      e.preventDefault();
      remove(selected);
    } else if (e.key === 'Escape') setSelected(null);
    else if (e.key === '+' || e.key === '=') setZoom((z) => Math.min(8, z * 1.25));
    else if (e.key === '-') setZoom((z) => Math.max(0.5, z / 1.25));
    else if (e.key.startsWith('Arrow') && selected !== null && boxes[selected]) {
      e.preventDefault();
      const step = e.shiftKey ? 10 : 1;
      const b = boxes[selected];
      const dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0;
      const dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0;
      replace(selected, { ...b, x: Math.max(0, Math.min(W - b.w, b.x + dx)), y: Math.max(0, Math.min(H - b.h, b.y + dy)) });
    } else if (e.key === 'Enter' && onSubmit && !(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      onSubmit();
    }
  });

  const color = (l: string) => PALETTE[Math.max(0, labels.indexOf(l)) % PALETTE.length];
  const hs = 9 / scale; // handle size in image pixels, constant on screen
  return (
    <div className="widget boxes-widget">
      <div className="boxes-toolbar">
        <div className="label-buttons compact" role="radiogroup" aria-label="Box class">
          {labels.map((l, i) => (
            <button key={l} type="button" role="radio" aria-checked={cls === l} className={`label-button ${cls === l ? 'selected' : ''}`} onClick={() => chooseClass(l)}>
              <span className="swatch" style={{ background: color(l) }} aria-hidden="true" />
              {i < 9 && <kbd aria-hidden="true">{i + 1}</kbd>}
              <span>{l}</span>
            </button>
          ))}
        </div>
        <div className="zoom" role="group" aria-label="Zoom">
          <button type="button" onClick={() => setZoom((z) => Math.max(0.5, z / 1.25))} aria-label="Zoom out">
            −
          </button>
          <output aria-live="polite">{Math.round(zoom * 100)}%</output>
          <button type="button" onClick={() => setZoom((z) => Math.min(8, z * 1.25))} aria-label="Zoom in">
            +
          </button>
          <button type="button" onClick={() => setZoom(1)}>
            Fit
          </button>
        </div>
      </div>
      <div className="boxes-stage" ref={stageRef} style={{ height: stageH + 16 }}>
        <svg
          ref={svgRef}
          className="boxes-svg"
          data-testid="boxes-canvas"
          width={W * scale}
          height={H * scale}
          viewBox={`0 0 ${W} ${H}`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          role="img"
          aria-label={`Image ${W}×${H} pixels with ${boxes.length} box${boxes.length === 1 ? '' : 'es'}. Drag to draw a box.`}
        >
          <image href={payload.imageUrl} x={0} y={0} width={W} height={H} preserveAspectRatio="none" />
          {boxes.map((b, i) => (
            <g key={i}>
              <rect
                data-box={i}
                x={b.x}
                y={b.y}
                width={b.w}
                height={b.h}
                fill={color(b.label)}
                fillOpacity={selected === i ? 0.25 : 0.12}
                stroke={color(b.label)}
                strokeWidth={selected === i ? 3 : 2}
                vectorEffect="non-scaling-stroke"
                className="box"
              />
              <text x={b.x + 2 / scale} y={b.y + 13 / scale} fontSize={12 / scale} className="box-label" fill="#fff" stroke={color(b.label)} strokeWidth={3 / scale} paintOrder="stroke">
                {b.label}
              </text>
              {selected === i &&
                (['nw', 'ne', 'sw', 'se'] as Corner[]).map((c) => (
                  <rect
                    key={c}
                    data-box={i}
                    data-handle={c}
                    className={`handle handle-${c}`}
                    x={(c.includes('w') ? b.x : b.x + b.w) - hs / 2}
                    y={(c.includes('n') ? b.y : b.y + b.h) - hs / 2}
                    width={hs}
                    height={hs}
                    fill="#fff"
                    stroke="#111"
                    vectorEffect="non-scaling-stroke"
                  />
                ))}
            </g>
          ))}
        </svg>
      </div>
      <ol className="box-list" aria-label="Boxes">
        {boxes.map((b, i) => (
          <li key={i} className={selected === i ? 'selected' : ''}>
            <button type="button" className="link" onClick={() => setSelected(i)} aria-pressed={selected === i}>
              <span className="swatch" style={{ background: color(b.label) }} aria-hidden="true" /> {b.label} · {b.w}×{b.h} at ({b.x}, {b.y})
            </button>
            <button type="button" className="small" onClick={() => remove(i)} aria-label={`Delete box ${i + 1} (${b.label})`}>
              Delete
            </button>
          </li>
        ))}
      </ol>
      <p className="hint">Drag on the image to draw a box of the chosen class. Drag a box to move it, a corner to resize it; Delete removes the selected box; arrows nudge it; + / − zoom; Enter submits.</p>
    </div>
  );
}
