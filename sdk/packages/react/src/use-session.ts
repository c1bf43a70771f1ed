import type { Session, SessiondClient, SessiondError } from '@sessiond/client';
import { useCallback, useContext, useState, useSyncExternalStore } from 'react';
import { ClientContext } from './session-provider.js';

export interface UseSessionResult {
  /** The current session: right on the first client render (restored synchronously). */
  data: Session | null;
  /** True while refetch() is asking the server. */
  isPending: boolean;
  /** What the last refetch() failed with, cleared by the next one. */
  error: SessiondError | null;
  /** Re-reads the user from the server (getUserFromServer); the data follows. */
  refetch: () => Promise<void>;
}

const noSession = () => null;

/**
 * The session of the nearest SessionProvider's client (or of `client`), re-rendering on every
 * onAuthStateChange event, in this tab or another. During server-side rendering and hydration
 * it reports null: the server cannot see the browser's storage.
 */
export function useSession(client?: SessiondClient): UseSessionResult {
  const fromContext = useContext(ClientContext);
  const auth = client ?? fromContext;
  if (!auth) throw new Error('useSession: wrap the tree in <SessionProvider client={…}>');
  const subscribe = useCallback((onChange: () => void) => auth.onAuthStateChange(onChange), [auth]);
  const data = useSyncExternalStore(subscribe, auth.getSession, noSession);
  const [isPending, setPending] = useState(false);
  const [error, setError] = useState<SessiondError | null>(null);
  const refetch = useCallback(async () => {
    setPending(true);
    setError(null);
    try {
      await auth.getUserFromServer();
    } catch (failure) {
      setError(failure as SessiondError);
    } finally {
      setPending(false);
    }
  }, [auth]);
  return { data, isPending, error, refetch };
}
