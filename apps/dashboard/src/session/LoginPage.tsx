import { type FormEvent, useState } from 'react';
import { ThemeToggle } from '../layout/ThemeToggle';

interface LoginPageProps {
  onLogin: (token: string, remember: boolean) => Promise<void>;
  notice: string | undefined;
}

/** Asks for an API token (`emofleet tokens create`); the role of the token decides what the dashboard allows. */
export function LoginPage({ onLogin, notice }: LoginPageProps) {
  const [token, setToken] = useState('');
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    onLogin(token.trim(), remember)
      .catch((failure: unknown) => setError(failure instanceof Error ? failure.message : String(failure)))
      .finally(() => setBusy(false));
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="row spread">
          <h1 id="login-title">emofleet</h1>
          <ThemeToggle />
        </div>
        <p className="muted">
          Log in with an API token. A viewer token can look; operator and admin tokens can act.
        </p>
        {notice !== undefined && <p className="notice">{notice}</p>}
        <label className="field">
          <span>API token</span>
          <input
            name="token"
            type="password"
            autoComplete="current-password"
            placeholder="emf_…"
            value={token}
            onChange={(event) => setToken(event.target.value)}
            required
          />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={remember} onChange={(event) => setRemember(event.target.checked)} />
          Keep me logged in on this browser
        </label>
        {error !== undefined && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
        <p className="muted small">
          The first admin token is printed in the control plane&apos;s boot log and written to{' '}
          <code>.emofleet/admin-token</code>; create personal ones with <code>emofleet tokens create</code>.
        </p>
      </form>
    </main>
  );
}
