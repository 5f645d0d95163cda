import { ItemView } from './ItemView';
import { useKeys, isTyping } from './keys';
import { WidgetProps } from './types';

/** Single- and multi-label classification: one button per label, keys 1..9, Enter submits. */
export function LabelWidget({ labels, payload, value, onChange, onSubmit, keys, multi }: WidgetProps<{ label: string } | { labels: string[] } | null> & { multi: boolean }) {
  const chosen = new Set(multi ? ((value as { labels: string[] } | null)?.labels ?? []) : value ? [(value as { label: string }).label] : []);
  const pick = (l: string) => {
    if (!multi) return onChange({ label: l });
    const next = chosen.has(l) ? [...chosen].filter((x) => x !== l) : [...chosen, l];
    onChange({ labels: labels.filter((x) => next.includes(x)) });
  };
  useKeys(keys, (e) => {
    if (isTyping(e)) return;
    const n = Number(e.key);
    if (Number.isInteger(n) && n >= 1 && n <= Math.min(9, labels.length)) {
      e.preventDefault();
      pick(labels[n - 1]);
    } else if (e.key === 'Enter' && onSubmit && !(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      onSubmit();
    }
  });
  return (
    <div className="widget label-widget">
      <ItemView payload={payload} />
      <div className="label-buttons" role={multi ? 'group' : 'radiogroup'} aria-label={multi ? 'Labels (choose any)' : 'Label (choose one)'}>
        {labels.map((l, i) => (
          <button
            key={l}
            type="button"
            role={multi ? 'checkbox' : 'radio'}
            aria-checked={chosen.has(l)}
            className={`label-button ${chosen.has(l) ? 'selected' : ''}`}
            onClick={() => pick(l)}
          >
            {i < 9 && <kbd aria-hidden="true">{i + 1}</kbd>}
            <span>{l}</span>
          </button>
        ))}
      </div>
      <p className="hint">
        {multi ? 'Press 1–9 to toggle labels' : 'Press 1–9 to choose'}, Enter to submit.
      </p>
    </div>
  );
}
