import { ItemView } from './ItemView';
import { WidgetProps } from './types';

/** Free text answer; Ctrl+Enter submits. */
export function TextWidget({ payload, value, onChange, onSubmit, maxLength }: WidgetProps<{ text: string }> & { maxLength?: number }) {
  const text = value?.text ?? '';
  return (
    <div className="widget text-widget">
      <ItemView payload={payload} />
      <label className="field">
        <span>Your answer</span>
        <textarea
          rows={5}
          value={text}
          maxLength={maxLength}
          onChange={(e) => onChange({ text: e.target.value })}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && e.ctrlKey && onSubmit) {
              e.preventDefault();
              onSubmit();
            }
          }}
        />
      </label>
      <p className="hint">
        {text.length}
        {maxLength ? ` / ${maxLength}` : ''} characters · Ctrl+Enter to submit.
      </p>
    </div>
  );
}
