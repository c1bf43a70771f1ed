import { commit, type Context } from './lib/context.js';
import { request } from './lib/http.js';

/**
 * Ends every session of the user, this one included (`POST /api/auth/revoke-sessions`), and
 * signs this tab and the others out locally. The local sign-out happens even when the request
 * fails; the promise then rejects with the error, because the other devices may still be
 * signed in.
 */
export async function signOutAll(ctx: Context): Promise<void> {
  try {
    await request(ctx, 'POST', '/revoke-sessions');
  } finally {
    if (ctx.session) commit(ctx, null, 'SIGNED_OUT');
  }
}
