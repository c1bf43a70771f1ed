import { commit, type Context } from './lib/context.js';
import { request } from './lib/http.js';

export interface SignOutOptions {
  /**
   * The revocation handle (`SessionInfo.token`) of one of the user's sessions to end instead of
   * this one. Ending another session can fail, so that form rejects with the server's error.
   */
  token?: string;
}

/**
 * Signs out. Without a token: clears the local session, tells this tab's listeners and every
 * other tab (null, SIGNED_OUT), then asks the server to end the session and clear its cookie
 * (`POST /api/auth/sign-out`). Always resolves, even when the server is unreachable: the local
 * state is already signed out, and an unreachable server's cookie session simply expires.
 *
 * With `{ token }`: ends that session (`POST /api/auth/revoke-session`); when it is the current
 * session (as last seen by listSessions), this behaves as a plain signOut().
 */
export async function signOut(ctx: Context, options: SignOutOptions = {}): Promise<void> {
  const { token } = options;
  if (token !== undefined && token !== ctx.handle) {
    await request(ctx, 'POST', '/revoke-session', { token });
    return;
  }
  if (ctx.session) commit(ctx, null, 'SIGNED_OUT');
  else ctx.storage.removeItem(ctx.key);
  await request(ctx, 'POST', '/sign-out').then(
    () => undefined,
    // Best effort by contract: the local sign-out above is what the caller relies on.
    () => undefined,
  );
}
