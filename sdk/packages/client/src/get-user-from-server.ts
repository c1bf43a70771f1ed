import { commit, type Context } from './lib/context.js';
import { request } from './lib/http.js';
import type { User } from './types.js';

/**
 * The signed-in user read from the server's database (`GET /api/auth/get-session` with
 * `disableCookieCache=true`; Agnost's getUserFromDB). The local snapshot follows the answer:
 * a changed user is stored and announced as USER_UPDATED; when the server has no session, the
 * local state is signed out (SIGNED_OUT) and the result is null.
 */
export async function getUserFromServer(ctx: Context): Promise<User | null> {
  const answer = await request<{ user: User } | null>(
    ctx,
    'GET',
    '/get-session?disableCookieCache=true',
  );
  const session = ctx.session;
  if (!answer) {
    if (session) commit(ctx, null, 'SIGNED_OUT');
    return null;
  }
  if (session && JSON.stringify(session.user) !== JSON.stringify(answer.user)) {
    commit(ctx, { ...session, user: answer.user }, 'USER_UPDATED');
  }
  return answer.user;
}
