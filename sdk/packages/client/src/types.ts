/** The public data types of @sessiond/client. Shapes follow sessiond's wire (docs/api.md). */

/** A user as the server returns it. Dates are ISO 8601 strings. */
export interface User {
  id: string;
  email: string;
  name: string;
  image: string | null;
  emailVerified: boolean;
  createdAt: string;
  updatedAt: string;
}

/** How the session was started. */
export type SignInMethod = 'email' | (string & {});

/**
 * The client's session: what `getSession()` returns and what is kept in storage.
 * It never holds the long-lived session credential, which stays in the server's HttpOnly cookie.
 */
export interface Session {
  user: User;
  /** The server's session id (the access token's `sid` claim). */
  sessionId: string;
  /**
   * A short-lived JWT from `GET /api/auth/token`; send it as `Authorization: Bearer <token>`
   * (or let `client.fetch` do it).
   */
  accessToken: string;
  /** Unix time in SECONDS when `accessToken` expires (the JWT's `exp`). */
  expiresAt: number;
  method?: SignInMethod;
}

/** A user agent parsed by the server (uap-core), "" when unknown. */
export interface ParsedUserAgent {
  family: string;
  major: string;
  minor: string;
  patch: string;
  device: { family: string; brand: string; model: string };
  os: { family: string; major: string; minor: string; patch: string };
}

/** One of the user's sessions, as list-sessions returns it. */
export interface SessionInfo {
  id: string;
  userId: string;
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  ipAddress: string;
  userAgent: string;
  /** A revocation handle, not a credential: pass it to `signOut({ token })`. */
  token: string;
  /** null when the server could not parse `userAgent`. */
  userAgentParsed?: ParsedUserAgent | null;
  /** True on the session of the caller. */
  current?: boolean;
}

/** What `onAuthStateChange` listeners are told. */
export type AuthChangeEvent =
  | 'INITIAL_SESSION'
  | 'SIGNED_IN'
  | 'SIGNED_OUT'
  | 'TOKEN_REFRESHED'
  | 'USER_UPDATED';

export type AuthChangeListener = (session: Session | null, event: AuthChangeEvent) => void;

/**
 * Where the session is kept. Synchronous on purpose: `createClient` restores the session while
 * it is created, so the first render already knows it.
 */
export interface StorageAdapter {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export interface ClientOptions {
  /** The sessiond server, e.g. `http://127.0.0.1:3000` (routes live under `/api/auth`). */
  baseURL: string;
  /** Names the storage key (`sessiond_session_<projectId>`), the lock and the tab channel. */
  projectId: string;
  /**
   * `'localStorage'` (default), `'sessionStorage'`, `'memory'` or an adapter. A web storage that
   * is missing (server-side rendering) or refused (sandboxed frames) falls back to memory.
   */
  storage?: 'localStorage' | 'sessionStorage' | 'memory' | StorageAdapter;
  /** Replaces the global `fetch` for every request the client makes. */
  fetch?: typeof fetch;
  /** Where `invalidateSession()` sends the browser. */
  signInRedirect?: string;
  /** Milliseconds to wait for the cross-tab refresh lock before refreshing anyway. Default 5000. */
  lockTimeout?: number;
  /** Milliseconds before a request to the server is abandoned. Default 10000. */
  requestTimeout?: number;
  /** Refresh the access token on a timer before it expires. Default true. */
  autoRefresh?: boolean;
}
