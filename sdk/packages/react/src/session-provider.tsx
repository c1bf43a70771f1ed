import type { SessiondClient } from '@sessiond/client';
import { createContext, type ReactNode } from 'react';

/** The client SessionProvider hands to useSession. Private to this package. */
export const ClientContext = createContext<SessiondClient | null>(null);

export interface SessionProviderProps {
  /** Create it once, at module level or in a ref, not on every render. */
  client: SessiondClient;
  children?: ReactNode;
}

/**
 * Makes `client` available to useSession() below it. Renders nothing itself and touches no
 * browser API, so it is safe in server-side rendering.
 */
export function SessionProvider({ client, children }: SessionProviderProps) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}
