import { notify, type Context } from './lib/context.js';
import type { AuthChangeListener } from './types.js';

/**
 * Calls `listener(session, 'INITIAL_SESSION')` at once, synchronously, with the current state,
 * then `listener(session, event)` on every change in this tab or another one: SIGNED_IN,
 * SIGNED_OUT (session null), TOKEN_REFRESHED, USER_UPDATED. A listener that throws is reported
 * and does not stop the others. Returns the function that unsubscribes it.
 */
export function onAuthStateChange(ctx: Context, listener: AuthChangeListener): () => void {
  // Wrapped so that the same function subscribed twice is two independent subscriptions.
  const entry: AuthChangeListener = (session, event) => listener(session, event);
  ctx.listeners.add(entry);
  notify(entry, ctx.session, 'INITIAL_SESSION');
  return () => {
    ctx.listeners.delete(entry);
  };
}
