import { useSession } from '@sessiond/react';
import { useState } from 'react';
import { auth } from './auth';
import { SessionList } from './SessionList';
import { SignInForm } from './SignInForm';

export function App() {
  const { data: session } = useSession();
  return (
    <main>
      <header>
        <h1>sessiond example</h1>
        <p className="muted">@sessiond/react against a local sessiond</p>
      </header>
      {session ? <SignedIn /> : <SignInForm />}
    </main>
  );
}

function SignedIn() {
  const { data: session } = useSession();
  const [busy, setBusy] = useState(false);
  if (!session) return null;
  const { user } = session;
  const expires = new Date(session.expiresAt * 1000).toLocaleTimeString();
  return (
    <>
      <section className="card" data-testid="user">
        <div className="user">
          <div className="avatar">{user.name.slice(0, 1).toUpperCase()}</div>
          <div>
            <div className="name" data-testid="user-name">
              {user.name}
            </div>
            <div className="muted" data-testid="user-email">
              {user.email}
            </div>
          </div>
        </div>
        <p className="muted small">
          Signed in as <strong>{user.email}</strong> · access token valid until {expires}
        </p>
        <div className="actions">
          <button data-testid="sign-out" disabled={busy} onClick={() => void auth.signOut()}>
            Sign out
          </button>
          <button
            className="danger"
            data-testid="sign-out-everywhere"
            disabled={busy}
            onClick={() => {
              setBusy(true);
              auth.signOutAll().finally(() => setBusy(false));
            }}
          >
            Sign out everywhere
          </button>
        </div>
      </section>
      <SessionList />
    </>
  );
}
