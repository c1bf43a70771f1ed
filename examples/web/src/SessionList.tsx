import type { SessionInfo } from '@sessiond/client';
import { isSessiondError } from '@sessiond/client';
import { useSession } from '@sessiond/react';
import { useCallback, useEffect, useState } from 'react';
import { auth } from './auth';

/** "Chrome 131 on Linux", from the server's parsed user agent when it has one. */
function device(session: SessionInfo): string {
  const ua = session.userAgentParsed;
  if (!ua) return session.userAgent || 'Unknown device';
  const browser = [ua.family, ua.major].filter(Boolean).join(' ');
  const model = ua.device.family !== 'Other' ? ` (${ua.device.family})` : '';
  return `${browser} on ${ua.os.family}${model}`;
}

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

/** The user's active sessions, newest first, each with a Revoke button. */
export function SessionList() {
  const { data: session } = useSession();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setSessions(await auth.listSessions());
      setError(null);
    } catch (failure) {
      setError(isSessiondError(failure) ? failure.code : String(failure));
    }
  }, []);

  // Reload when the session changes (sign-in, another tab's sign-out, a new token).
  useEffect(() => {
    void load();
  }, [load, session?.sessionId]);

  async function revoke(target: SessionInfo) {
    await auth.signOut({ token: target.token });
    if (!target.current) await load();
  }

  return (
    <section className="card">
      <div className="row">
        <h2>Your sessions</h2>
        <button className="link" onClick={() => void load()}>
          Reload
        </button>
      </div>
      {error && <p className="error">{error}</p>}
      {sessions === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <table data-testid="sessions">
          <thead>
            <tr>
              <th>Device</th>
              <th>IP address</th>
              <th>Last active</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-testid="session-row" data-session-id={s.id} data-current={s.current ? 'true' : 'false'}>
                <td>
                  {device(s)}
                  {s.current && <span className="badge">this device</span>}
                </td>
                <td>{s.ipAddress}</td>
                <td title={s.updatedAt}>{ago(s.updatedAt)}</td>
                <td className="right">
                  <button className="small danger" data-testid="revoke" onClick={() => void revoke(s)}>
                    {s.current ? 'Sign out' : 'Revoke'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
