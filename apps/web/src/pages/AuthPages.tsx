import { FormEvent, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { ApiError, describeError } from '../api';
import { homeFor, useAuth } from '../auth';

function FieldError({ error, field }: { error: unknown; field: string }) {
  if (!(error instanceof ApiError)) return null;
  const p = error.fields.find((f) => f.field === field);
  return p ? (
    <span className="field-error" id={`${field}-error`}>
      {p.problem}
    </span>
  ) : null;
}

export function SignInPage() {
  const { signIn } = useAuth();
  const nav = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      nav(homeFor(await signIn(email, password)), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to Tally</h1>
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </label>
        <label className="field">
          <span>Password</span>
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error !== undefined && (
          <p className="error" role="alert">
            {error instanceof ApiError && error.status === 401 ? 'Wrong email or password.' : describeError(error)}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="muted">
          New here? <Link to="/signup">Create an account</Link>
        </p>
      </form>
    </div>
  );
}

export function SignUpPage() {
  const { signUp } = useAuth();
  const nav = useNavigate();
  const [form, setForm] = useState({ email: '', password: '', displayName: '', worker: true, requester: false });
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form, v: string | boolean) => setForm((f) => ({ ...f, [k]: v }));
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const roles = [...(form.worker ? ['worker' as const] : []), ...(form.requester ? ['requester' as const] : [])];
    if (!roles.length) return setError(new Error('Choose at least one: label data or post campaigns.'));
    setBusy(true);
    setError(undefined);
    try {
      nav(homeFor(await signUp({ email: form.email, password: form.password, displayName: form.displayName, roles })), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="auth-page">
      <form className="card auth-card" onSubmit={submit} aria-labelledby="signup-title">
        <h1 id="signup-title">Create your Tally account</h1>
        <label className="field">
          <span>Name shown to others</span>
          <input autoComplete="nickname" required maxLength={100} value={form.displayName} onChange={(e) => set('displayName', e.target.value)} autoFocus />
          <FieldError error={error} field="displayName" />
        </label>
        <label className="field">
          <span>Email</span>
          <input type="email" autoComplete="email" required value={form.email} onChange={(e) => set('email', e.target.value)} aria-describedby="email-error" />
          <FieldError error={error} field="email" />
        </label>
        <label className="field">
          <span>Password (at least 10 characters)</span>
          <input type="password" autoComplete="new-password" required minLength={10} value={form.password} onChange={(e) => set('password', e.target.value)} aria-describedby="password-error" />
          <FieldError error={error} field="password" />
        </label>
        <fieldset className="field">
          <legend>I want to</legend>
          <label className="check">
            <input type="checkbox" name="role-worker" checked={form.worker} onChange={(e) => set('worker', e.target.checked)} /> label data and earn (worker)
          </label>
          <label className="check">
            <input type="checkbox" name="role-requester" checked={form.requester} onChange={(e) => set('requester', e.target.checked)} /> post labeling campaigns (requester)
          </label>
        </fieldset>
        {error !== undefined && (
          <p className="error" role="alert">
            {describeError(error)}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
        <p className="muted">
          Have an account? <Link to="/signin">Sign in</Link>
        </p>
      </form>
    </div>
  );
}
