import { Payload } from './types';

/** The item a label or text task is about: its text and/or its image. */
export function ItemView({ payload }: { payload: Payload }) {
  const extra = Object.entries(payload).filter(([k]) => !['text', 'imageUrl', 'width', 'height'].includes(k));
  return (
    <div className="item-view">
      {payload.imageUrl && <img className="item-image" src={payload.imageUrl} alt="Item to label" />}
      {payload.text && <p className="item-text">{payload.text}</p>}
      {extra.length > 0 && (
        <dl className="item-extra">
          {extra.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
            </div>
          ))}
        </dl>
      )}
    </div>
  );
}
