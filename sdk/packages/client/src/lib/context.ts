/**
 * The state one client owns, and the single place it changes: `commit`.
 *
 * Threading model: JavaScript runs one task at a time, so the fields below need no lock inside
 * a tab. Between tabs the stored session is the shared truth; `commit` writes it, tells the
 * other tabs (BroadcastChannel, else the `storage` event) and then the listeners.
 */
import type {
  AuthChangeEvent,
  AuthChangeListener,
  ClientOptions,
  Session,
  StorageAdapter,
} from '../types.js';
import { parseSession, resolveStorage } from './storage.js';
import { schedule } from './refresh.js';

export interface Context {
  readonly options: ClientOptions;
  /** `<baseURL>/api/auth` */
  readonly api: string;
  /** `sessiond_session_<projectId>`: the storage key, the tab channel's and the lock's name. */
  readonly key: string;
  readonly storage: StorageAdapter;
  readonly listeners: Set<AuthChangeListener>;
  session: Session | null;
  /**
   * Bumped by every sign-in and sign-out. A refresh that started under another generation
   * must not write its result: the session it was refreshing is gone.
   */
  generation: number;
  /** The one refresh in flight in this tab; every caller shares it (single-flight). */
  inflight: Promise<Session> | null;
  /** The current session's revocation handle, once listSessions() has shown it. */
  handle: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  channel: BroadcastChannel | undefined;
}

/** Builds the context and restores the stored session synchronously. */
export function createContext(options: ClientOptions): Context {
  const key = 'sessiond_session_' + options.projectId;
  const storage = resolveStorage(options.storage);
  const ctx: Context = {
    options,
    api: options.baseURL.replace(/\/+$/, '') + '/api/auth',
    key,
    storage,
    listeners: new Set(),
    session: parseSession(storage.getItem(key)),
    generation: 0,
    inflight: null,
    handle: undefined,
    timer: undefined,
    channel: undefined,
  };
  listenToOtherTabs(ctx);
  schedule(ctx);
  return ctx;
}

/**
 * Makes `session` the current state: stores it, tells the other tabs (unless it came from
 * one), re-arms the refresh timer, then calls every listener. Listeners run last and outside
 * any lock, so a listener that calls back into the client cannot deadlock it.
 */
export function commit(
  ctx: Context,
  session: Session | null,
  event: AuthChangeEvent,
  fromOtherTab = false,
): void {
  ctx.session = session;
  if (event === 'SIGNED_IN' || event === 'SIGNED_OUT') {
    ctx.generation++;
    ctx.handle = undefined;
  }
  const raw = JSON.stringify(session);
  if (session) ctx.storage.setItem(ctx.key, raw);
  else ctx.storage.removeItem(ctx.key);
  if (!fromOtherTab) ctx.channel?.postMessage(raw);
  schedule(ctx);
  for (const listener of [...ctx.listeners]) notify(listener, session, event);
}

/** Calls one listener; a listener that throws is reported and does not stop the others. */
export function notify(
  listener: AuthChangeListener,
  session: Session | null,
  event: AuthChangeEvent,
): void {
  try {
    listener(session, event);
  } catch (error) {
    if (typeof reportError === 'function') reportError(error);
    else console.error(error);
  }
}

/** The event that turns `from` into `to`. */
export function eventBetween(from: Session | null, to: Session | null): AuthChangeEvent {
  return !to
    ? 'SIGNED_OUT'
    : !from || from.sessionId !== to.sessionId || from.user.id !== to.user.id
      ? 'SIGNED_IN'
      : from.accessToken !== to.accessToken
        ? 'TOKEN_REFRESHED'
        : 'USER_UPDATED';
}

/** Applies `session` unless it is what this tab already has (e.g. its own write echoed). */
export function adopt(ctx: Context, session: Session | null, fromOtherTab: boolean): void {
  if (JSON.stringify(session) !== JSON.stringify(ctx.session)) {
    commit(ctx, session, eventBetween(ctx.session, session), fromOtherTab);
  }
}

/**
 * Cross-tab sync: every commit posts the new state on a BroadcastChannel named after the
 * storage key; without BroadcastChannel, the `storage` event of localStorage carries it.
 * Only in a browser: on the server there are no other tabs.
 */
function listenToOtherTabs(ctx: Context): void {
  if (typeof window === 'undefined') return;
  const receive = (raw: unknown) =>
    adopt(ctx, parseSession(typeof raw === 'string' ? raw : null), true);
  if (typeof BroadcastChannel === 'function') {
    ctx.channel = new BroadcastChannel(ctx.key);
    ctx.channel.onmessage = (message) => receive(message.data);
  } else {
    window.addEventListener('storage', (e) => {
      if (e.key === ctx.key) receive(e.newValue);
    });
  }
}
