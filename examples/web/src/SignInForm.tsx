import { isSessiondError } from '@sessiond/client';
import { useState, type FormEvent } from 'react';
import { auth } from './auth';

/** Sign in, or create an account (the name field is used only then). */
export function SignInForm() {
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-in');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get('email'));
    const password = String(form.get('password'));
    setBusy(true);
    setError(null);
    try {
      if (mode === 'sign-up') {
        await auth.signUp.email({ email, password, name: String(form.get('name')) });
      } else {
        await auth.signIn.email({ email, password });
      }
    } catch (failure) {
      setError(isSessiondError(failure) ? `${failure.code}: ${failure.message}` : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} data-testid="sign-in-form">
      <div className="tabs">
        <button type="button" className={mode === 'sign-in' ? 'on' : ''} onClick={() => setMode('sign-in')}>
          Sign in
        </button>
        <button
          type="button"
          data-testid="mode-sign-up"
          className={mode === 'sign-up' ? 'on' : ''}
          onClick={() => setMode('sign-up')}
        >
          Create account
        </button>
      </div>
      {mode === 'sign-up' && (
        <label>
          Name
          <input name="name" data-testid="name" required autoComplete="name" />
        </label>
      )}
      <label>
        Email
        <input name="email" data-testid="email" type="email" required autoComplete="email" />
      </label>
      <label>
        Password
        <input
          name="password"
          data-testid="password"
          type="password"
          required
          minLength={8}
          autoComplete={mode === 'sign-up' ? 'new-password' : 'current-password'}
        />
      </label>
      {error && (
        <p className="error" role="alert" data-testid="error">
          {error}
        </p>
      )}
      <button type="submit" className="primary" data-testid="submit" disabled={busy}>
        {mode === 'sign-up' ? 'Create account' : 'Sign in'}
      </button>
    </form>
  );
}
