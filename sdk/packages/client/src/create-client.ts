import { authFetch } from './auth-fetch.js';
import { clearLocalData } from './clear-local-data.js';
import { getSession } from './get-session.js';
import { getUser } from './get-user.js';
import { getUserFromServer } from './get-user-from-server.js';
import { invalidateSession } from './invalidate-session.js';
import { createContext } from './lib/context.js';
import { listSessions } from './list-sessions.js';
import { onAuthStateChange } from './on-auth-state-change.js';
import { refresh } from './refresh.js';
import { setSession } from './set-session.js';
import { setUser } from './set-user.js';
import { signInEmail, type SignInEmailParams } from './sign-in-email.js';
import { signOut, type SignOutOptions } from './sign-out.js';
import { signOutAll } from './sign-out-all.js';
import { signOutOthers } from './sign-out-others.js';
import { signUpEmail, type SignUpEmailParams } from './sign-up-email.js';
import type {
  AuthChangeListener,
  ClientOptions,
  Session,
  SessionInfo,
  User,
} from './types.js';
import { updateUser, type UpdateUserParams } from './update-user.js';

/** A sessiond client. Each method is documented in the file of the same name. */
export interface SessiondClient {
  signUp: { email(params: SignUpEmailParams): Promise<Session> };
  signIn: { email(params: SignInEmailParams): Promise<Session> };
  /** Synchronous; right on the first render. */
  getSession(): Session | null;
  /** The stored user snapshot; no request. */
  getUser(): User | null;
  /** The user from the server's database (Agnost's getUserFromDB). */
  getUserFromServer(): Promise<User | null>;
  listSessions(): Promise<SessionInfo[]>;
  /** Always resolves when signing this session out; `{ token }` ends another session. */
  signOut(options?: SignOutOptions): Promise<void>;
  signOutAll(): Promise<void>;
  signOutOthers(): Promise<void>;
  updateUser(params: UpdateUserParams): Promise<User | null>;
  setSession(session: Session | null): void;
  setUser(user: User): void;
  clearLocalData(): void;
  /** signOut(), then navigate to `signInRedirect` when set. */
  invalidateSession(): Promise<void>;
  /** Fires at once (INITIAL_SESSION), then on every change; returns the unsubscribe function. */
  onAuthStateChange(listener: AuthChangeListener): () => void;
  /** A fresh access token; concurrent calls share one request. */
  refresh(): Promise<string>;
  /** fetch with `Authorization: Bearer <accessToken>`, refreshed first when near expiry. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/**
 * Creates a client, synchronously: the stored session (if any) is restored before this
 * returns, so `getSession()` is right on the first render after a reload. Safe to call during
 * server-side rendering (no window): storage falls back to memory and nothing is scheduled.
 */
export function createClient(options: ClientOptions): SessiondClient {
  const ctx = createContext(options);
  return {
    signUp: { email: (params) => signUpEmail(ctx, params) },
    signIn: { email: (params) => signInEmail(ctx, params) },
    getSession: () => getSession(ctx),
    getUser: () => getUser(ctx),
    getUserFromServer: () => getUserFromServer(ctx),
    listSessions: () => listSessions(ctx),
    signOut: (signOutOptions) => signOut(ctx, signOutOptions),
    signOutAll: () => signOutAll(ctx),
    signOutOthers: () => signOutOthers(ctx),
    updateUser: (params) => updateUser(ctx, params),
    setSession: (session) => setSession(ctx, session),
    setUser: (user) => setUser(ctx, user),
    clearLocalData: () => clearLocalData(ctx),
    invalidateSession: () => invalidateSession(ctx),
    onAuthStateChange: (listener) => onAuthStateChange(ctx, listener),
    refresh: () => refresh(ctx),
    fetch: (input, init) => authFetch(ctx, input, init),
  };
}
