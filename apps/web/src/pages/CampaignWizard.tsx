import { FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, ApiError, describeError } from '../api';
import { Card } from '../ui';
import { TaskWidget } from '../widgets/TaskWidget';
import { Answer, emptyAnswer, Payload, TaskType, TASK_TYPES } from '../widgets/types';

const METHODS = [
  { value: 'mv', name: 'Majority vote' },
  { value: 'wmv', name: 'Reliability-weighted vote' },
  { value: 'ds', name: 'Dawid-Skene' },
  { value: 'one-coin-ds', name: 'One-coin Dawid-Skene' },
  { value: 'glad', name: 'GLAD' },
  { value: 'mace', name: 'MACE' },
  { value: 'wawa', name: 'Wawa' },
  { value: 'bayes-ds', name: 'Bayesian Dawid-Skene' },
  { value: 'auto', name: 'Automatic (Tally picks)' },
];

const SAMPLE: Record<TaskType, Payload> = {
  'single-label': { text: 'The delivery was fast and the product works perfectly.' },
  'multi-label': { text: 'Great camera, but the battery barely lasts a day and the price is high.' },
  boxes: { imageUrl: '/preview.svg', width: 640, height: 400 },
  spans: { text: 'Ada Lovelace met Charles Babbage in London in June 1833.' },
  text: { text: 'Describe this item in one sentence.' },
};
const DEFAULT_LABELS: Record<TaskType, string> = {
  'single-label': 'positive\nnegative\nneutral',
  'multi-label': 'quality\nbattery\nprice\nshipping',
  boxes: 'car\ntree\nperson',
  spans: 'PERSON\nPLACE\nDATE',
  text: '',
};

interface Form {
  name: string;
  taskType: TaskType;
  labelsText: string;
  instructions: string;
  reward: string;
  currency: string;
  redundancyMin: number;
  redundancyMax: number;
  confidenceTarget: number;
  leaseMinutes: number;
  deadline: string;
  autoApproveHours: number;
  goldRate: number;
  goldPassMark: number;
  aggregationMethod: string;
  modelLabels: 'off' | 'suggest' | 'annotator';
  minReliability: string;
  minApprovedCount: string;
}

const MODEL_LABELS = [
  { value: 'off', name: 'Not used' },
  { value: 'suggest', name: 'Shown to workers as a suggestion' },
  { value: 'annotator', name: 'Counted as one more (unpaid) annotator in consensus' },
] as const;

const STEPS = ['Task type and labels', 'Instructions', 'Reward and redundancy', 'Quality', 'Review'];

export const parseLabels = (s: string) => [...new Set(s.split(/[\n,]/).map((x) => x.trim()).filter(Boolean))];

/** Creates a campaign in draft, step by step, with a live preview of what workers will see. */
export function CampaignWizardPage() {
  const nav = useNavigate();
  const [step, setStep] = useState(0);
  const [f, setF] = useState<Form>({
    name: '',
    taskType: 'single-label',
    labelsText: DEFAULT_LABELS['single-label'],
    instructions: '',
    reward: '0.05',
    currency: 'usd',
    redundancyMin: 3,
    redundancyMax: 5,
    confidenceTarget: 0.9,
    leaseMinutes: 10,
    deadline: '',
    autoApproveHours: 72,
    goldRate: 0,
    goldPassMark: 0.8,
    aggregationMethod: 'mv',
    modelLabels: 'off',
    minReliability: '',
    minApprovedCount: '',
  });
  const [preview, setPreview] = useState<Answer | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setF((x) => ({ ...x, [k]: v }));
  const labels = parseLabels(f.labelsText);

  const body = () => {
    const qualification: Record<string, number> = {};
    if (f.minReliability) qualification.minReliability = Number(f.minReliability);
    if (f.minApprovedCount) qualification.minApprovedCount = Number(f.minApprovedCount);
    return {
      name: f.name.trim(),
      taskType: f.taskType,
      labels: f.taskType === 'text' ? [] : labels,
      instructions: f.instructions,
      rewardMinor: Math.round(Number(f.reward) * 100),
      currency: f.currency,
      redundancyMin: Number(f.redundancyMin),
      redundancyMax: Number(f.redundancyMax),
      confidenceTarget: Number(f.confidenceTarget),
      leaseSeconds: Math.round(Number(f.leaseMinutes) * 60),
      ...(f.deadline ? { deadline: new Date(f.deadline).toISOString() } : {}),
      autoApproveSeconds: Math.round(Number(f.autoApproveHours) * 3600),
      goldRate: Number(f.goldRate),
      goldPassMark: Number(f.goldPassMark),
      qualification,
      aggregationMethod: f.aggregationMethod,
      modelLabels: f.modelLabels,
    };
  };
  const stepProblem = (): string | null => {
    if (step === 0) {
      if (!f.name.trim()) return 'Give the campaign a name.';
      if (f.taskType !== 'text' && labels.length < (f.taskType === 'single-label' ? 2 : 1)) return 'Add the labels (one per line).';
    }
    if (step === 2) {
      if (!(Number(f.reward) > 0)) return 'The reward must be more than zero.';
      if (f.redundancyMin < 1 || f.redundancyMax < f.redundancyMin) return 'Redundancy: 1 ≤ minimum ≤ maximum.';
      if (!(f.confidenceTarget > 0 && f.confidenceTarget <= 1)) return 'The confidence target is between 0 and 1.';
    }
    return null;
  };
  const next = (e: FormEvent) => {
    e.preventDefault();
    const p = stepProblem();
    if (p) return setError(new Error(p));
    setError(undefined);
    if (step < STEPS.length - 1) return setStep(step + 1);
    void create();
  };
  const create = async () => {
    setBusy(true);
    try {
      const c = await api<{ id: string }>('/campaigns', { body: body() });
      nav(`/campaigns/${c.id}`, { state: { created: true } });
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  const chooseType = (t: TaskType) => {
    setF((x) => ({ ...x, taskType: t, labelsText: parseLabels(x.labelsText).length && x.labelsText !== DEFAULT_LABELS[x.taskType] ? x.labelsText : DEFAULT_LABELS[t] }));
    setPreview(emptyAnswer(t));
  };
  const num = (k: keyof Form, label: string, attrs: { min?: number; max?: number; step?: number | 'any' } = {}, help?: string) => (
    <label className="field">
      <span>{label}</span>
      <input type="number" name={k} value={f[k] as number} {...attrs} onChange={(e) => set(k, e.target.value as never)} />
      {help && <small className="muted">{help}</small>}
    </label>
  );

  return (
    <div className="page wizard-page">
      <div className="page-head">
        <h1>New campaign</h1>
        <Link to="/campaigns">Cancel</Link>
      </div>
      <ol className="stepper" aria-label="Steps">
        {STEPS.map((s, i) => (
          <li key={s} className={i === step ? 'current' : i < step ? 'done' : ''} aria-current={i === step ? 'step' : undefined}>
            <button type="button" className="link" onClick={() => i < step && setStep(i)} disabled={i > step}>
              {i + 1}. {s}
            </button>
          </li>
        ))}
      </ol>
      <div className="wizard-grid">
        <form className="card wizard-form" onSubmit={next} aria-label={STEPS[step]}>
          <h2>{STEPS[step]}</h2>
          {step === 0 && (
            <>
              <label className="field">
                <span>Campaign name</span>
                <input name="name" required value={f.name} onChange={(e) => set('name', e.target.value)} autoFocus />
              </label>
              <fieldset className="field type-choices">
                <legend>Task type</legend>
                {TASK_TYPES.map((t) => (
                  <label key={t.value} className={`type-choice ${f.taskType === t.value ? 'selected' : ''}`}>
                    <input type="radio" name="taskType" value={t.value} checked={f.taskType === t.value} onChange={() => chooseType(t.value)} />
                    <strong>{t.name}</strong>
                    <small>{t.hint}</small>
                  </label>
                ))}
              </fieldset>
              {f.taskType !== 'text' && (
                <label className="field">
                  <span>{f.taskType === 'boxes' ? 'Box classes' : f.taskType === 'spans' ? 'Entity types' : 'Labels'} (one per line)</span>
                  <textarea name="labels" rows={5} value={f.labelsText} onChange={(e) => set('labelsText', e.target.value)} />
                  <small className="muted">{labels.length} distinct: {labels.join(', ')}</small>
                </label>
              )}
            </>
          )}
          {step === 1 && (
            <label className="field">
              <span>Instructions for workers</span>
              <textarea
                name="instructions"
                rows={12}
                value={f.instructions}
                placeholder="What to label, how to decide edge cases, examples…"
                onChange={(e) => set('instructions', e.target.value)}
                autoFocus
              />
              <small className="muted">Workers see these beside every task. The preview on the right updates as you type.</small>
            </label>
          )}
          {step === 2 && (
            <>
              <div className="row">
                <label className="field">
                  <span>Reward per approved answer</span>
                  <input type="number" name="reward" min={0.01} step={0.01} value={f.reward} onChange={(e) => set('reward', e.target.value)} />
                </label>
                <label className="field">
                  <span>Currency</span>
                  <select name="currency" value={f.currency} onChange={(e) => set('currency', e.target.value)}>
                    {['usd', 'eur', 'gbp'].map((c) => (
                      <option key={c} value={c}>
                        {c.toUpperCase()}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <div className="row">
                {num('redundancyMin', 'Answers per item: at least', { min: 1, max: 50 })}
                {num('redundancyMax', 'at most', { min: 1, max: 50 })}
                {num('confidenceTarget', 'Confidence target', { min: 0.5, max: 1, step: 0.01 }, 'Stop asking once consensus is this sure.')}
              </div>
              <div className="row">
                {num('leaseMinutes', 'Minutes a worker has per task', { min: 1, max: 1440 })}
                {num('autoApproveHours', 'Auto-approve after (hours)', { min: 0, max: 720, step: 'any' })}
                <label className="field">
                  <span>Deadline (optional)</span>
                  <input type="datetime-local" name="deadline" value={f.deadline} onChange={(e) => set('deadline', e.target.value)} />
                </label>
              </div>
            </>
          )}
          {step === 3 && (
            <>
              <label className="field">
                <span>Aggregation method</span>
                <select name="aggregationMethod" value={f.aggregationMethod} onChange={(e) => set('aggregationMethod', e.target.value)}>
                  {METHODS.map((m) => (
                    <option key={m.value} value={m.value}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>Model pre-labels (items imported with a prelabel)</span>
                <select name="modelLabels" value={f.modelLabels} onChange={(e) => set('modelLabels', e.target.value as Form['modelLabels'])}>
                  {MODEL_LABELS.map((m) => (
                    <option key={m.value} value={m.value}>
                      {m.name}
                    </option>
                  ))}
                </select>
              </label>
              <div className="row">
                {num('goldRate', 'Share of gold items', { min: 0, max: 0.5, step: 0.01 }, 'Hidden known answers mixed into the work.')}
                {num('goldPassMark', 'Gold pass mark', { min: 0, max: 1, step: 0.01 })}
              </div>
              <div className="row">
                <label className="field">
                  <span>Minimum worker reliability (optional)</span>
                  <input type="number" name="minReliability" min={0} max={1} step={0.01} value={f.minReliability} onChange={(e) => set('minReliability', e.target.value)} />
                </label>
                <label className="field">
                  <span>Minimum approved answers (optional)</span>
                  <input type="number" name="minApprovedCount" min={0} step={1} value={f.minApprovedCount} onChange={(e) => set('minApprovedCount', e.target.value)} />
                </label>
              </div>
              <p className="muted small">Gold items are uploaded with the items: give a row a gold answer (see the upload help on the campaign page).</p>
            </>
          )}
          {step === 4 && (
            <dl className="summary">
              <dt>Name</dt>
              <dd>{f.name}</dd>
              <dt>Type</dt>
              <dd>{TASK_TYPES.find((t) => t.value === f.taskType)?.name}</dd>
              {f.taskType !== 'text' && (
                <>
                  <dt>Labels</dt>
                  <dd>{labels.join(', ')}</dd>
                </>
              )}
              <dt>Reward</dt>
              <dd>
                {f.reward} {f.currency.toUpperCase()} per approved answer
              </dd>
              <dt>Redundancy</dt>
              <dd>
                {f.redundancyMin}–{f.redundancyMax} answers, stop at confidence {f.confidenceTarget}
              </dd>
              <dt>Quality</dt>
              <dd>
                {METHODS.find((m) => m.value === f.aggregationMethod)?.name}; gold {Math.round(f.goldRate * 100)}% (pass {f.goldPassMark}); model pre-labels:{' '}
                {MODEL_LABELS.find((m) => m.value === f.modelLabels)?.name.toLowerCase()}
              </dd>
            </dl>
          )}
          {error !== undefined && (
            <p className="error" role="alert">
              {describeError(error)}
              {error instanceof ApiError && error.fields.length > 0 && ' — go back to the step concerned to fix it.'}
            </p>
          )}
          <div className="wizard-actions">
            <button type="button" className="secondary" onClick={() => setStep(Math.max(0, step - 1))} disabled={step === 0}>
              Back
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {step < STEPS.length - 1 ? 'Next' : busy ? 'Creating…' : 'Create campaign (draft)'}
            </button>
          </div>
        </form>
        <Card title="What workers will see" className="preview">
          <div className="preview-instructions">
            <h3>Instructions</h3>
            <div className="instructions">{f.instructions || <span className="muted">(none yet)</span>}</div>
          </div>
          <div className="preview-widget" aria-label="Preview of the worker's widget">
            <TaskWidget taskType={f.taskType} labels={labels} payload={SAMPLE[f.taskType]} value={preview ?? emptyAnswer(f.taskType)} onChange={setPreview} keys={false} />
          </div>
        </Card>
      </div>
    </div>
  );
}
