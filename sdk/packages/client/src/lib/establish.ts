import type { Session, SignInMethod, User } from '../types.js';
import { commit, type Context } from './context.js';
import { fetchGrant } from './grant.js';

/**
 * Completes a sign-in or sign-up whose response has set the session cookie: trades the cookie
 * for an access token, then commits SIGNED_IN. The raw session token in the response body is
 * deliberately dropped: the long-lived credential lives only in the HttpOnly cookie.
 */
export async function establish(ctx: Context, user: User, method: SignInMethod): Promise<Session> {
  const session: Session = { user, ...(await fetchGrant(ctx)), method };
  commit(ctx, session, 'SIGNED_IN');
  return session;
}
